"""Data-quality rules for a snapshot's papers; each returns a ``Verdict``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl
import pyarrow as pa


@dataclass(frozen=True)
class Verdict:
    passed: bool
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)


def non_empty(papers: pa.Table) -> Verdict:
    return Verdict(papers.num_rows > 0, f"{papers.num_rows} papers", {"rows": papers.num_rows})


def unique_paper_ids(papers: pa.Table) -> Verdict:
    frame = pl.from_arrow(papers.select(["snapshot_id", "paper_id"]))
    duplicates = frame.filter(frame.is_duplicated())["paper_id"].unique().sort().to_list()
    return Verdict(
        not duplicates,
        "every paper_id is unique" if not duplicates else f"{len(duplicates)} duplicated paper_id",
        {"duplicates": duplicates[:20]},
    )


def no_empty_titles(papers: pa.Table) -> Verdict:
    titles = pl.from_arrow(papers.select(["title"]))["title"]
    empty = int((titles.is_null() | (titles.str.strip_chars() == "")).sum())
    return Verdict(empty == 0, f"{empty} empty titles", {"empty_titles": empty})


def contiguous_ranks(papers: pa.Table) -> Verdict:
    ranks = pl.from_arrow(papers.select(["rank"]))["rank"].sort()
    expected = pl.int_range(1, len(ranks) + 1, eager=True, dtype=ranks.dtype)
    ok = ranks.equals(expected, check_names=False)
    return Verdict(
        ok, "ranks run 1..n" if ok else "ranks are not 1..n without gaps", {"n": len(ranks)}
    )
