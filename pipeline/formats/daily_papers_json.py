"""The JSON a daily-papers API returns: a list of entries, each holding a ``paper`` object
(``id``, ``title``, ``summary``, ``authors``, ``upvotes``, ``githubRepo``, ``publishedAt``, …).

Entries keep the order of the list as their rank; the arXiv id is the paper's identity.
"""

import json
from typing import Any

import polars as pl
import pyarrow as pa

from pipeline.formats.errors import ParseError
from pipeline.identity import clean_arxiv_id, paper_id_expr
from pipeline.schemas import PARSED_PAPERS

NAME = "daily_papers_json"
PRIORITY = 10


def detect(text: str) -> bool:
    """A JSON array whose first element holds a ``paper`` object."""
    head = text.lstrip("\ufeff \t\r\n")
    if not head.startswith("["):
        return False
    try:
        entries = json.loads(text)
    except ValueError:
        return False
    return (
        isinstance(entries, list)
        and bool(entries)
        and isinstance(entries[0], dict)
        and isinstance(entries[0].get("paper"), dict)
    )


def parse(text: str) -> pa.Table:
    entries = json.loads(text)
    rows = []
    for position, entry in enumerate(entries, start=1):
        paper = entry.get("paper") if isinstance(entry, dict) else None
        if not isinstance(paper, dict):
            raise ParseError(f"entry {position} has no 'paper' object")
        rows.append(_row(paper, entry))
    papers = pl.DataFrame(
        rows,
        schema={
            "arxiv_id": pl.String,
            "title": pl.String,
            "abstract": pl.String,
            "authors": pl.List(pl.String),
            "published": pl.String,
            "upvotes": pl.Int32,
            "github_repo": pl.String,
            "github_stars": pl.Int32,
        },
    )
    untitled = papers.with_row_index("entry", 1).filter(
        pl.col("title").str.strip_chars().fill_null("") == ""
    )
    if untitled.height:
        raise ParseError(f"entry {untitled['entry'][0]} has a paper without a title")
    return (
        papers.with_columns(
            title=pl.col("title").str.replace_all(r"\s+", " ").str.strip_chars(),
            abstract=pl.col("abstract").str.replace_all(r"[ \t]+", " ").str.strip_chars(),
            published_on=pl.col("published").str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False),
            github_repo=pl.col("github_repo").str.extract(r"github\.com/([^/\s]+/[^/\s#?]+)"),
            paper_id=paper_id_expr(pl.col("arxiv_id"), pl.col("title")),
            truncated=pl.lit(False),
        )
        .with_columns(abstract=pl.when(pl.col("abstract") != "").then(pl.col("abstract")))
        .unique("paper_id", keep="first", maintain_order=True)
        .with_columns(rank=pl.int_range(1, pl.len() + 1, dtype=pl.Int32))
        .select(PARSED_PAPERS.names)
        .to_arrow()
        .cast(PARSED_PAPERS)
    )


def _row(paper: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """One paper's fields; values of an unexpected type count as missing."""
    authors = paper.get("authors")
    names = (
        [_text(a.get("name")) for a in authors if isinstance(a, dict)]
        if isinstance(authors, list)
        else []
    )
    return {
        "arxiv_id": clean_arxiv_id(_text(paper.get("id"))),
        "title": _text(paper.get("title")) or _text(entry.get("title")),
        "abstract": _text(paper.get("summary")) or _text(entry.get("summary")),
        "authors": [n for n in names if n] or None,
        "published": _text(paper.get("publishedAt")) or _text(entry.get("publishedAt")),
        "upvotes": _int(paper.get("upvotes")),
        "github_repo": _text(paper.get("githubRepo")),
        "github_stars": _int(paper.get("githubStars")),
    }


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if -(2**31) < value < 2**31 else None
