"""Vectorised keyphrase extraction.

Candidates are the maximal runs of content words between stopwords, boilerplate words, numbers
and punctuation (at most ``MAX_WORDS`` words). Each candidate is scored per document from its
frequency, the position of its first occurrence and its length; the top ``top_k`` per document
are returned in a display form (as first written) and a normalised key (lower-case, head noun
singular) so that "neural networks" and "neural network" are one keyphrase.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import lemminflect
import polars as pl
import pyarrow as pa

from pipeline.keyphrases.lexicon import breaker_words
from pipeline.schemas import PAPER_KEYWORDS

# Bump when extraction or scoring changes.
CODE_VERSION = "1"
MAX_WORDS = 4
_TOKEN = r"[\p{L}\p{N}](?:[\p{L}\p{N}'’\-]*[\p{L}\p{N}])?|[^\s\p{L}\p{N}]|\n"


def _breakers() -> list[str]:
    return sorted(breaker_words())


@cache
def _singular(word: str) -> str:
    lemmas = lemminflect.getLemma(word, upos="NOUN")
    return lemmas[0] if lemmas else word


def rank_keyphrases(texts: Sequence[str | None], top_k: int = 10) -> pl.DataFrame:
    """Ranked keyphrases of every text: columns ``doc, rank, keyphrase, display, score``."""
    docs = pl.DataFrame(
        {"doc": pl.int_range(len(texts), eager=True, dtype=pl.UInt32), "text": list(texts)},
        schema={"doc": pl.UInt32, "text": pl.String},
    )
    tokens = (
        docs.select("doc", token=pl.col("text").fill_null("").str.extract_all(_TOKEN))
        .explode("token")
        .drop_nulls("token")
        .with_columns(
            position=pl.int_range(pl.len()).over("doc"), lower=pl.col("token").str.to_lowercase()
        )
    )
    breaks = (
        pl.col("lower").is_in(_breakers())
        | ~pl.col("token").str.contains(r"^\p{L}")
        | (pl.col("token").str.len_chars() < 2)
    )
    spans = (
        tokens.with_columns(span=breaks.cum_sum(), is_break=breaks)
        .filter(~pl.col("is_break"))
        .group_by("doc", "span", maintain_order=True)
        .agg(
            display=pl.col("token").str.join(" "),
            words=pl.col("lower"),
            start=pl.col("position").first(),
            n_words=pl.len(),
        )
        .filter(pl.col("n_words") <= MAX_WORDS)
    )
    heads = spans["words"].list.last().unique()
    singular = {word: _singular(word) for word in heads.to_list()}
    keyed = spans.with_columns(
        keyphrase=pl.concat_str(
            pl.col("words").list.slice(0, pl.col("n_words") - 1).list.join(" "),
            pl.col("words").list.last().replace_strict(singular, return_dtype=pl.String),
            separator=" ",
        ).str.strip_chars()
    )
    scored = (
        keyed.group_by("doc", "keyphrase")
        .agg(
            display=pl.col("display").first(),
            tf=pl.len(),
            first=pl.col("start").min(),
            n_words=pl.col("n_words").first(),
        )
        .with_columns(
            score=(1.0 + pl.col("tf").log())
            * (1.0 / (1.0 + pl.col("first") / 25.0))
            * (1.0 + 0.35 * (pl.col("n_words") - 1))
        )
    )
    return (
        scored.sort(["doc", "score", "keyphrase"], descending=[False, True, False])
        .with_columns(rank=pl.int_range(1, pl.len() + 1).over("doc"))
        .filter(pl.col("rank") <= top_k)
        .select("doc", "rank", "keyphrase", "display", "score")
    )


def extract_keyphrases(texts: Sequence[str | None], top_k: int = 10) -> list[list[str]]:
    """Top ``top_k`` keyphrases of each text, best first, in display form."""
    ranked = rank_keyphrases(texts, top_k)
    grouped = ranked.group_by("doc").agg(pl.col("display").sort_by("rank"))
    by_doc = dict(zip(grouped["doc"].to_list(), grouped["display"].to_list(), strict=True))
    return [by_doc.get(i, []) for i in range(len(texts))]


def keyphrase_table(papers: pa.Table, top_k: int = 10) -> pa.Table:
    """``paper_keywords`` rows for a snapshot's papers (title and abstract are both read)."""
    frame = pl.from_arrow(papers).select("snapshot_id", "paper_id", "title", "abstract")
    texts = frame.select(
        pl.concat_str(pl.col("title"), pl.col("abstract").fill_null(""), separator="\n")
    ).to_series()
    ranked = rank_keyphrases(texts.to_list(), top_k)
    ids = frame.select("snapshot_id", "paper_id").with_row_index("doc")
    joined = ranked.join(ids, on="doc", how="inner", maintain_order="left").with_columns(
        pl.col("rank").cast(pl.Int16)
    )
    return joined.select(PAPER_KEYWORDS.names).to_arrow().cast(PAPER_KEYWORDS)
