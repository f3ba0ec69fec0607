"""Related papers: the terms that describe each paper, for nearest-neighbour search.

A paper's terms are the Snowball stems of its content words and of adjacent content-word pairs
(bigrams), from title and abstract, with their counts (title occurrences count double). The
warehouse turns counts into TF-IDF weights with its corpus document frequencies, keeps each
paper's strongest terms, and links papers by the cosine similarity of those vectors
(``warehouse/related_papers.sql``).
"""

from __future__ import annotations

from functools import cache

import polars as pl
import pyarrow as pa
import Stemmer

from pipeline.keyphrases.lexicon import breaker_words

# Bump when term extraction or the similarity computation changes.
CODE_VERSION = "3"
TERMS_PER_PAPER = 30
NEIGHBOURS = 10
TITLE_WEIGHT = 2
# Terms in more than this share of papers are too common to link two papers.
COMMON_SHARE = 0.02
# ...and a term shared by more papers than this never links them either, so a daily snapshot's
# cost stops growing with history (it binds from 100,000 papers on).
MAX_POSTINGS = 2000
# A large snapshot is indexed this many papers at a time, so memory does not grow with its size.
CHUNK_PAPERS = 2000

PAPER_TERMS = pa.schema(
    [
        pa.field("paper_id", pa.string(), nullable=False),
        pa.field("term", pa.string(), nullable=False),
        pa.field("display", pa.string(), nullable=False),
        pa.field("tf", pa.int32(), nullable=False),
    ]
)
_WORD = r"[\p{L}][\p{L}\p{N}'’\-]*[\p{L}\p{N}]|[^\s\p{L}\p{N}]|\n"


@cache
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def term_counts(papers: pa.Table) -> pa.Table:
    """``paper_id, term, display, tf`` for every paper of ``papers`` (needs title, abstract)."""
    frame = pl.from_arrow(papers).select("paper_id", "title", "abstract")
    tokens = (
        frame.select(
            "paper_id",
            token=pl.concat_str(
                pl.col("title"), pl.col("abstract").fill_null(""), separator="\n"
            ).str.extract_all(_WORD),
            title_tokens=pl.col("title").str.count_matches(_WORD),
        )
        .explode("token")
        .drop_nulls("token")
        .with_columns(
            position=pl.int_range(pl.len()).over("paper_id"),
            lower=pl.col("token").str.to_lowercase(),
        )
    )
    content = (
        ~pl.col("lower").is_in(sorted(breaker_words()))
        & pl.col("token").str.contains(r"^\p{L}")
        & (pl.col("token").str.len_chars() >= 3)
    )
    vocabulary = tokens.filter(content)["lower"].unique().to_list()
    stems = dict(zip(vocabulary, _stemmer().stemWords(vocabulary), strict=True))
    marked = tokens.with_columns(
        stem=pl.when(content).then(
            pl.col("lower").replace_strict(stems, default=None, return_dtype=pl.String)
        ),
        weight=pl.when(pl.col("position") < pl.col("title_tokens")).then(TITLE_WEIGHT).otherwise(1),
    )
    unigrams = marked.filter(pl.col("stem").is_not_null()).select(
        "paper_id", term="stem", display="lower", weight="weight"
    )
    bigrams = (
        marked.with_columns(
            next_stem=pl.col("stem").shift(-1).over("paper_id"),
            next_lower=pl.col("lower").shift(-1).over("paper_id"),
        )
        .filter(pl.col("stem").is_not_null() & pl.col("next_stem").is_not_null())
        .select(
            "paper_id",
            term=pl.concat_str(pl.col("stem"), pl.col("next_stem"), separator=" "),
            display=pl.concat_str(pl.col("lower"), pl.col("next_lower"), separator=" "),
            weight="weight",
        )
    )
    counts = (
        pl.concat([unigrams, bigrams])
        .group_by("paper_id", "term")
        .agg(
            display=pl.col("display").mode().sort().first(),
            tf=pl.col("weight").sum().cast(pl.Int32),
        )
        .sort("paper_id", "term")
    )
    return counts.to_arrow().cast(PAPER_TERMS)
