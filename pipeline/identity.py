"""Stable paper identities.

A paper is identified by its arXiv id when the input carries one (``arxiv:2310.17230``, version
suffix dropped), otherwise by a hash of its normalised title (``title:9f86d081884c7d65``), so the
same paper listed on different days gets the same id.
"""

from __future__ import annotations

import hashlib
import re

import polars as pl

ARXIV_ID = re.compile(
    r"(?P<id>\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?", flags=re.IGNORECASE
)


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
