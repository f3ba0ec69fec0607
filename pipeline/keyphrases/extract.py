"""Vectorised keyphrase extraction (polars on the hot path, no per-document Python loops).

Pipeline, for a batch of texts at once:

1. Tokens: runs of letters/digits (hyphenated words stay one token), single punctuation marks and
   line breaks (the first line of a text is its title; the line break ends a phrase).
2. Vocabulary: every distinct token of the batch is looked up once in the word lists beside this
   file (function words, part-of-speech possibilities, common verbs, general-English frequency)
   and stemmed.
3. Spans: maximal runs of tokens that can be part of a noun phrase. A run ends at function words,
   verb forms that cannot be nouns or adjectives (and inflections of common verbs such as
   "shows"), punctuation, numbers and one-letter tokens; a participle that ends a run ("... is
   strongly coupled") and a gerund that starts one ("by solving ...") are dropped too.
4. Candidates: every suffix of a span of at most ``MAX_WORDS`` words (a noun phrase keeps its head
   at the end, leading modifiers are optional), identified in its document by a hash of its stems.
5. Score: a linear function of occurrence counts, first position, length, how common the words are
   in general English and cheap part-of-speech cues (``WEIGHTS``). Only statistics of the document
   itself are used, so a text gets the same keyphrases whatever batch it is processed in.
6. Output: the ``top_k`` best candidates per document, with a display form (first occurrence as
   written) and a normalised key (lower-case, head word singular).

What is known about words (function words, parts of speech, common verbs, general-English
frequency, noun lemmas) comes from ``pipeline.keyphrases.lexicon``.

Quality and speed are measured by ``python -m benchmarks.run keyphrases`` (Inspec, with YAKE and
scikit-learn TF-IDF measured in the same run).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, lru_cache

import lemminflect
import polars as pl
import pyarrow as pa
import Stemmer

from pipeline.keyphrases.lexicon import (
    ADJ_ONLY,
    ADVERB,
    GERUND,
    IN_LEXICON,
    KNOWN,
    PARTICIPLE,
    STOP,
    VERB,
    ZIPF_UNIT,
    noun_lemmas,
    packed_lexicon,
    word_list,
)
from pipeline.schemas import PAPER_KEYWORDS

# Bump when extraction or scoring changes.
CODE_VERSION = "3"
MAX_WORDS = 5
BATCH_SIZE = 10_000
TOKEN = r"[\p{L}\p{N}]+(?:-[\p{L}\p{N}]+)*|[^\s\p{L}\p{N}]|\n"
# a token can be part of a phrase if it starts with a letter, or with digits then a letter ("3D")
WORDLIKE = r"^(?:\p{L}|\p{N}[\p{N}\-]*\p{L})"
C = pl.col

# Weights of the linear score: a logistic regression (is the candidate one of the indexers'
# keyphrases?) fitted on one half of the Inspec development set, rounded, and checked on the other
# half. Features are defined in _word_features() and _count_features().
WEIGHTS = {
    # occurrences of the phrase as a whole span, and as the end of a span (including whole spans)
    "ln_tf_max": 2.3,
    "ln_tf_suf": -1.0,
    # log(1 + token position of the first occurrence)
    "ln_first": -0.25,
    # length: one word / three words
    "single": -2.4,
    "three": 0.43,
    # general-English Zipf frequency of the commonest word, the rarest word, the first word
    "z_max": -0.35,
    "z_min": 0.1,
    "z_first": -0.22,
    # part-of-speech cues: starts with an adverb; ends with a word that can be an adjective or an
    # adverb but not a noun
    "first_adverb": -1.1,
    "last_modifier": -2.7,
}
# odd 64-bit constants that mix word hashes and the document index into a phrase key
_KEY_MULT = [
    0x9E3779B97F4A7C15,
    0xC2B2AE3D27D4EB4F,
    0x165667B19E3779F9,
    0xD6E8FEB86659FD93,
    0xFF51AFD7ED558CCD,
    0xC4CEB9FE1A85EC53,
    0x94D049BB133111EB,
    0xBF58476D1CE4E5B9,
]
_DOC_MULT = 0x2545F4914F6CDD1D


@cache
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("porter", 0)  # no internal cache: memory stays bounded


@lru_cache(maxsize=100_000)  # bounded: memory does not grow with the corpus
def _singular(word: str) -> str:
    """Singular of a lower-cased head word, as ``lemminflect.getLemma(word, upos="NOUN")`` gives it:
    dictionary nouns from lemminflect's table; words ending in "s" that lemminflect's tables do not
    know through its rules for unknown words; any other word is left as it is."""
    lemma = noun_lemmas().get(word)
    if lemma is not None:
        return lemma
    if word.endswith("s") and not packed_lexicon().get(word, 0) & IN_LEXICON:
        lemmas = lemminflect.getLemma(word, upos="NOUN")
        return lemmas[0] if lemmas else word
    return word


# ---------------------------------------------------------------- tokens and vocabulary


def _tokens(texts: Sequence[str | None]) -> tuple[pl.DataFrame, pl.Series]:
    """``doc, pos, code``: one row per token, in text order; and the batch's distinct tokens
    (``code`` is a token's index among them). Every text ends with a line break token, so a span
    never runs from one document into the next.

    No token contains a space, so a text's tokens are those of its space-separated pieces, in
    order. Most pieces recur (words, words with a comma), so each distinct piece is cut into
    tokens once: running the token expression over every token of the batch took twice as long.
    """
    docs = pl.DataFrame({"text": pl.Series(texts, dtype=pl.String)}).with_row_index("doc")
    text = pl.concat_str(C("text").fill_null(""), pl.lit("\n"))
    pieces = (
        docs.select("doc", piece=text.str.split(" "))
        .explode("piece")
        .with_columns(piece_hash=C("piece").hash())
    )
    # Strings are numbered by a 64-bit hash: cheaper than hashing them into a categorical, and
    # two distinct strings of one batch share a hash with odds of about 1e-10.
    piece_tokens = (
        pieces.unique("piece_hash", keep="any")
        .select("piece_hash", tok=C("piece").str.extract_all(TOKEN))
        .explode("tok")
        .drop_nulls("tok")  # pieces without tokens: empty, or other white space
        .with_columns(hash=C("tok").hash())
    )
    distinct = piece_tokens.unique("hash", keep="any").select("hash", "tok").with_row_index("code")
    piece_codes = (
        piece_tokens.join(distinct.drop("tok"), on="hash", maintain_order="left")
        .group_by("piece_hash", maintain_order=True)
        .agg("code")
    )
    tokens = (
        pieces.select("doc", "piece_hash")
        .join(piece_codes, on="piece_hash", maintain_order="left")
        .explode("code")
        .select("doc", pos=pl.int_range(pl.len(), dtype=pl.UInt32).over("doc"), code="code")
    )
    return tokens, distinct["tok"]


def _vocabulary(distinct: pl.Series) -> pl.DataFrame:
    """Per distinct token (as written), in the order given: break flag, word classes, Zipf
    frequency, stem hash.

    A token breaks a span when it is a function word or a VERB, is not word-like (numbers,
    punctuation, line breaks) or is a single character. Unknown words ending in "-ly" are adverbs;
    an unknown hyphenated word whose last part is a participle or adjective ("time-varying",
    "resource-based") is a modifier. Each distinct word is looked up once (a Python loop over the
    batch vocabulary, never over tokens).
    """
    vocab = pl.DataFrame({"tok": distinct}).with_columns(low=C("tok").str.to_lowercase())
    lows = vocab["low"].to_list()
    lex = packed_lexicon()
    vocab = vocab.with_columns(
        v=pl.Series([lex.get(w, 0) for w in lows], dtype=pl.Int64),
        last=pl.Series(
            [lex.get(w.rsplit("-", 1)[-1], 0) if "-" in w else 0 for w in lows], dtype=pl.Int64
        ),
        h=pl.Series(_stemmer().stemWords(lows), dtype=pl.String).hash(),
    )

    def bit(b: int, col: str = "v") -> pl.Expr:
        return (C(col) & b) != 0

    unknown = ~bit(KNOWN)
    ly_adverb = unknown & C("low").str.ends_with("ly")
    hyphen_modifier = unknown & (
        bit(PARTICIPLE, "last") | bit(GERUND, "last") | bit(ADJ_ONLY, "last")
    )
    return vocab.select(
        "h",
        brk=bit(STOP)
        | bit(VERB)
        | ~C("tok").str.contains(WORDLIKE)
        | (C("tok").str.len_chars() < 2),
        participle=bit(PARTICIPLE),
        gerund=bit(GERUND),
        adverb=bit(ADVERB) | ly_adverb,
        boilerplate=C("low").is_in(sorted(word_list("boilerplate.txt"))),
        modifier=bit(ADJ_ONLY) | bit(ADVERB) | ly_adverb | hyphen_modifier,
        zipf=(C("v") // ZIPF_UNIT).cast(pl.Float64) / 100.0,
    )


# ---------------------------------------------------------------- candidates


def _span_tokens(tokens: pl.DataFrame, distinct: pl.Series) -> pl.DataFrame:
    """The tokens that belong to spans, with what is known about their words, ``start`` (first
    token of its span), ``rest`` (number of span tokens from this one to the span end) and
    ``row`` (index into ``tokens``)."""
    vocab = _vocabulary(distinct)
    breaks = ["brk", "participle", "gerund"]
    t = tokens.select(
        "doc",
        "pos",
        "code",
        row=pl.int_range(pl.len(), dtype=pl.UInt32),
        **{name: vocab[name].gather(tokens["code"]) for name in breaks},
    )
    # every text ends with a break, so neighbours across documents never count
    t = t.with_columns(
        brk=C("brk")
        | (C("participle") & C("brk").shift(-1, fill_value=True))  # "... strongly coupled"
        | (C("gerund") & C("brk").shift(1, fill_value=True))  # "... by solving ..."
    )
    t = t.with_columns(span=C("brk").cum_sum()).filter(~C("brk")).drop(*breaks)
    # the rest of the vocabulary only for the tokens that remain
    t = t.with_columns(
        vocab[name].gather(t["code"]) for name in vocab.columns if name not in breaks
    )
    idx = pl.int_range(pl.len(), dtype=pl.UInt32)
    new_span = C("span") != C("span").shift(1, fill_value=-1)
    span_end = C("span") != C("span").shift(-1, fill_value=-1)
    last_idx = pl.when(span_end).then(idx).backward_fill()
    return t.with_columns(start=new_span, rest=last_idx - idx + 1).drop("span", "code")


def _phrase_key() -> pl.Expr:
    """Hash of the document and the stems of the candidate's words (the ``rest`` words from each
    span token, at most ``MAX_WORDS``)."""
    key = C("doc").cast(pl.UInt64) * pl.lit(_DOC_MULT, pl.UInt64)
    for j in range(MAX_WORDS):
        word = C("h").shift(-j) * pl.lit(_KEY_MULT[j], pl.UInt64)
        key = key + pl.when(C("rest") > j).then(word).otherwise(pl.lit(0, pl.UInt64))
    return key


def _word_features() -> dict[str, pl.Expr]:
    """Features that depend only on the words of a candidate, over rows of span tokens where
    the candidate is the span suffix starting at the token (``rest`` words long)."""

    def ahead(col: str) -> list[pl.Expr]:
        """Values of ``col`` for the candidate's words, in order (null past its end)."""
        return [pl.when(C("rest") > j).then(C(col).shift(-j)) for j in range(MAX_WORDS)]

    last_word = pl.int_range(pl.len(), dtype=pl.UInt32) + C("rest") - 1
    return {
        "single": (C("rest") == 1).cast(pl.Float64),
        "three": (C("rest") == 3).cast(pl.Float64),
        "z_max": pl.max_horizontal(ahead("zipf")),
        "z_min": pl.min_horizontal(ahead("zipf")),
        "z_first": C("zipf"),
        "first_adverb": C("adverb").cast(pl.Float64),
        "last_modifier": C("modifier").gather(last_word).cast(pl.Float64),
    }


def _count_features() -> dict[str, pl.Expr]:
    """Features from the candidate's occurrences in its document (over the candidate table)."""
    return {
        "ln_tf_max": C("tf_max").log1p(),
        "ln_tf_suf": C("tf_suf").log1p(),
        "ln_first": C("first").log1p(),
    }


def _weighted(features: dict[str, pl.Expr]) -> pl.Expr:
    return pl.sum_horizontal([expr * WEIGHTS[name] for name, expr in features.items()])


def _occurrences(suffix: pl.DataFrame) -> pl.DataFrame:
    """Per distinct ``key`` of ``suffix``: ``at`` (its first row), ``tf_suf`` (its rows) and
    ``tf_max`` (its rows that start a span).

    Almost every key occurs once, so a hash group-by spends its time building groups; a stable
    sort by key, cut where the key changes, does the same work in half the time.
    """
    runs = (
        suffix.select("key", start=C("start").cast(pl.UInt32))
        .with_row_index("at")
        .sort("key", maintain_order=True)  # stable: a key's first row is its first occurrence
        .with_columns(
            before=C("start").cum_sum() - C("start"), idx=pl.int_range(pl.len(), dtype=pl.UInt32)
        )
    )
    firsts = runs.filter((C("key") != C("key").shift(1)).fill_null(True))
    return firsts.select(
        "key",
        "at",
        tf_suf=C("idx").shift(-1, fill_value=runs.height) - C("idx"),
        tf_max=C("before").shift(-1, fill_value=runs["start"].sum()) - C("before"),
    )


def _candidate_table(
    tokens: pl.DataFrame, distinct: pl.Series, keep_words: bool = False
) -> pl.DataFrame:
    """One row per distinct candidate of each document: ``key, doc, row`` (first occurrence),
    ``m`` (words), ``first`` (token position), counts and ``score``. With ``keep_words`` the
    word features are kept as columns too (for analysis and fitting)."""
    words = _word_features()
    # lazy, so that the shifted columns the features share are computed once
    suffix = (
        _span_tokens(tokens, distinct)
        .lazy()
        .with_columns(
            key=_phrase_key(), word_score=_weighted(words), **(words if keep_words else {})
        )
        # a candidate never starts with paper boilerplate ("proposed method", "novel approach")
        .filter((C("rest") <= MAX_WORDS) & ~C("boilerplate"))
        .collect()
    )
    counts = _occurrences(suffix)
    firsts = suffix.select(
        "doc", "word_score", *(words if keep_words else []), "row", m="rest", first="pos"
    )
    cands = pl.concat([counts, firsts[counts["at"]]], how="horizontal").drop("at")
    features = _count_features()
    return cands.with_columns(
        score=C("word_score") + _weighted(features), **(features if keep_words else {})
    )


# ---------------------------------------------------------------- output


def _with_display(top: pl.DataFrame, tokens: pl.DataFrame, distinct: pl.Series) -> pl.DataFrame:
    """Add ``display`` (the first occurrence as written, words joined by one space) and
    ``keyphrase`` (lower-cased, head word singular) to selected candidates."""
    last_row = tokens.height - 1

    def token_at(rows: pl.Series) -> pl.Series:
        return distinct.gather(tokens["code"].gather(rows))

    words = {
        f"w{j}": token_at((top["row"] + j).clip(upper_bound=last_row)) for j in range(MAX_WORDS)
    }
    top = top.with_columns(**words)

    def word(j: int, skip_last: int) -> pl.Expr:
        return pl.when(C("m") > j + skip_last).then(C(f"w{j}"))

    top = top.with_columns(
        display=pl.concat_str(
            [word(j, 0) for j in range(MAX_WORDS)], separator=" ", ignore_nulls=True
        ),
        body=pl.concat_str(
            [word(j, 1) for j in range(MAX_WORDS)], separator=" ", ignore_nulls=True
        ),
        head=token_at(top["row"] + top["m"] - 1).str.to_lowercase(),
    )
    heads = top["head"].unique().to_list()
    singular = dict(zip(heads, [_singular(w) for w in heads], strict=True))
    keyphrase = pl.concat_str(
        C("body").str.to_lowercase(),
        C("head").replace_strict(singular, return_dtype=pl.String),
        separator=" ",
        ignore_nulls=True,
    )
    return top.with_columns(keyphrase=keyphrase.str.strip_chars()).drop(*words, "body", "head")


def candidate_features(texts: Sequence[str | None]) -> pl.DataFrame:
    """Every candidate of every text with its features, score and display form (for analysis)."""
    tokens, distinct = _tokens(texts)
    return _with_display(_candidate_table(tokens, distinct, keep_words=True), tokens, distinct)


def _rank_batch(texts: Sequence[str | None], top_k: int, offset: int) -> pl.DataFrame:
    """``rank_keyphrases`` for one batch; ``offset`` is the index of its first text."""
    tokens, distinct = _tokens(texts)
    cands = _candidate_table(tokens, distinct).select("doc", "row", "m", "first", "score")
    top = (
        cands.filter(C("score") >= C("score").top_k(top_k).min().over("doc"))
        .sort(["doc", "score", "first"], descending=[False, True, False])
        .with_columns(rank=pl.int_range(1, pl.len() + 1, dtype=pl.UInt32).over("doc"))
        .filter(C("rank") <= top_k)  # ties at the cut
    )
    top = _with_display(top, tokens, distinct)
    return top.select(
        doc=C("doc").cast(pl.UInt32) + offset,
        rank="rank",
        keyphrase="keyphrase",
        display="display",
        score="score",
    )


def rank_keyphrases(
    texts: Sequence[str | None], top_k: int = 10, batch_size: int = BATCH_SIZE
) -> pl.DataFrame:
    """Ranked keyphrases of every text: columns ``doc, rank, keyphrase, display, score``.

    ``doc`` is the index of the text in ``texts``; texts are processed ``batch_size`` at a time,
    so memory is bounded by the batch, and the result does not depend on the batching.
    """
    texts = list(texts)
    batches = [
        _rank_batch(texts[i : i + batch_size], top_k, i) for i in range(0, len(texts), batch_size)
    ]
    if not batches:
        schema = {
            "doc": pl.UInt32,
            "rank": pl.UInt32,
            "keyphrase": pl.String,
            "display": pl.String,
            "score": pl.Float64,
        }
        return pl.DataFrame(schema=schema)
    return pl.concat(batches)


def extract_keyphrases(texts: Sequence[str | None], top_k: int = 10) -> list[list[str]]:
    """Top ``top_k`` keyphrases of each text, best first, in display form."""
    texts = list(texts)
    ranked = rank_keyphrases(texts, top_k)  # sorted by doc, then rank
    grouped = ranked.group_by("doc", maintain_order=True).agg("display")
    every_doc = pl.DataFrame({"doc": pl.int_range(len(texts), eager=True, dtype=pl.UInt32)})
    lists = every_doc.join(grouped, on="doc", how="left", maintain_order="left")["display"]
    return lists.fill_null(pl.lit([], dtype=pl.List(pl.String))).to_list()


def keyphrase_table(papers: pa.Table, top_k: int = 10) -> pa.Table:
    """``paper_keywords`` rows for a snapshot's papers (the title, a line break, the abstract)."""
    frame = pl.from_arrow(papers).select("snapshot_id", "paper_id", "title", "abstract")
    texts = frame.select(
        pl.concat_str(C("title"), C("abstract").fill_null(""), separator="\n")
    ).to_series()
    ranked = rank_keyphrases(texts.to_list(), top_k)
    ids = frame.select("snapshot_id", "paper_id").with_row_index("doc")
    joined = ranked.join(ids, on="doc", how="inner", maintain_order="left").with_columns(
        C("rank").cast(pl.Int16)
    )
    return joined.select(PAPER_KEYWORDS.names).to_arrow().cast(PAPER_KEYWORDS)
