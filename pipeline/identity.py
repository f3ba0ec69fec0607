"""Stable paper identities.

A paper is identified by its arXiv id when the input carries one (``arxiv:2310.17230``, version
suffix dropped), otherwise by a hash of its normalised title (``title:9f86d081884c7d65``), so the
same paper listed on different days gets the same id.

When a snapshot is loaded, each paper is also matched against the papers already known
(``resolve_ids``): an arXiv id seen before, or a title that differs only slightly (case,
punctuation, a typo fix) with an abstract that agrees, maps to the existing paper. A title that
matches but whose abstract disagrees is a different paper and gets an id of its own.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import polars as pl
from rapidfuzz import fuzz, process

ARXIV_ID = re.compile(
    r"(?P<id>\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?", flags=re.IGNORECASE
)
# Titles this similar (0-100, on normalised titles) may be the same paper...
TITLE_SIMILARITY = 90.0
# ...if their abstracts agree this much (token-set similarity, 0-100).
ABSTRACT_AGREEMENT = 80.0


def normalized_title(titles: pl.Expr) -> pl.Expr:
    """Lower-case, Unicode-folded title with punctuation and spacing removed."""
    return (
        titles.str.normalize("NFKC")
        .str.to_lowercase()
        .str.replace_all(r"[^\p{L}\p{N}]+", " ")
        .str.strip_chars()
    )


def title_hash(normalized: str) -> str:
    return hashlib.blake2b(normalized.encode("utf-8"), digest_size=8).hexdigest()


def paper_id_expr(arxiv_id: pl.Expr, title: pl.Expr) -> pl.Expr:
    """``arxiv:<id>`` where an arXiv id is known, else ``title:<hash of normalised title>``."""
    by_title = normalized_title(title).map_elements(
        lambda t: f"title:{title_hash(t)}", return_dtype=pl.String
    )
    return pl.when(arxiv_id.is_not_null()).then(pl.lit("arxiv:") + arxiv_id).otherwise(by_title)


def clean_arxiv_id(raw: str | None) -> str | None:
    """The bare arXiv id in ``raw`` (an id, an abs/pdf URL, ``arXiv:…``), without version."""
    if not raw:
        return None
    match = ARXIV_ID.search(raw)
    return match.group("id") if match else None


@dataclass(frozen=True)
class KnownPaper:
    """A paper already in the warehouse that an incoming paper might be."""

    paper_id: str
    arxiv_id: str | None
    title_key: str
    abstract: str | None


def abstracts_agree(a: str | None, b: str | None) -> bool:
    """Two abstracts of the same paper (edits and truncation allowed); unknown ones agree."""
    if not a or not b:
        return True
    return fuzz.token_set_ratio(a[:2000], b[:2000]) >= ABSTRACT_AGREEMENT


def could_be(pairs: pl.DataFrame) -> pl.Series:
    """Which (incoming paper, known paper) pairs ``_match`` could pick: its own id, the same
    arXiv id, or a similar title. Candidates found by a shared title block are mostly none of
    these; they can be dropped before their abstracts are read. ``pairs`` has ``incoming_id``,
    ``incoming_arxiv_id``, ``incoming_title_key`` and the known paper's ``paper_id``,
    ``arxiv_id`` and ``title_key``; the titles are compared in one call."""
    similarity = process.cpdist(
        pairs["incoming_title_key"].to_list(), pairs["title_key"].to_list(), scorer=fuzz.ratio
    )
    return pairs.select(
        (pl.col("paper_id") == pl.col("incoming_id"))
        | (
            (pl.col("incoming_arxiv_id").fill_null("") != "")
            & (pl.col("arxiv_id") == pl.col("incoming_arxiv_id")).fill_null(False)
        )
        | (pl.Series(similarity) >= TITLE_SIMILARITY)
    ).to_series()


def resolve_ids(incoming: pl.DataFrame, known: dict[str, list[KnownPaper]]) -> dict[str, str]:
    """Map incoming paper ids to the ids the warehouse should store them under.

    ``incoming`` has ``paper_id``, ``arxiv_id``, ``title_key`` and ``abstract`` in rank order;
    ``known`` maps an incoming ``paper_id`` to the known papers it might be (same id, same arXiv
    id, or a shared title block). Only ids that change appear in the result, and no two incoming
    papers are mapped to the same id.
    """
    mapping: dict[str, str] = {}
    taken = set(incoming["paper_id"].to_list())
    candidates = incoming.filter(pl.col("paper_id").is_in(list(known)))
    for row in candidates.iter_rows(named=True):
        resolved = _match(row, known[row["paper_id"]])
        if resolved is None or resolved in taken:
            continue
        taken.add(resolved)
        mapping[row["paper_id"]] = resolved
    return mapping


def _match(row: dict, candidates: list[KnownPaper]) -> str | None:
    """The id an incoming paper should have, or None to keep its own."""
    own_id, abstract = row["paper_id"], row["abstract"]
    own = next((k for k in candidates if k.paper_id == own_id), None)
    if own is not None:
        if own_id.startswith("arxiv:") or abstracts_agree(own.abstract, abstract):
            return None
        # the same title, but another paper: identify this one by title and abstract
        return f"title:{title_hash(row['title_key'] + ' ' + (abstract or '')[:500])}"
    if row["arxiv_id"]:
        same = sorted(k.paper_id for k in candidates if k.arxiv_id == row["arxiv_id"])
        if same:
            return same[0]
    scored = sorted(
        ((fuzz.ratio(row["title_key"], k.title_key), k.paper_id, k) for k in candidates),
        key=lambda item: (-item[0], item[1]),
    )
    for similarity, _, known in scored:
        if similarity >= TITLE_SIMILARITY and abstracts_agree(known.abstract, abstract):
            return known.paper_id
    return None
