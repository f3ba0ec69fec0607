"""The daily digest of one snapshot: what is new, what moved, what is rising, where the code is."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from functools import cache
from importlib.resources import files
from typing import Any

import duckdb

from pipeline.reports import charts
from pipeline.reports.render import render

# Bump when the digest's content or templates change.
CODE_VERSION = "2"
TOP_N = 25
MOVERS = 8
HISTORY = 8


@cache
def report_sql(name: str) -> str:
    """A query of ``pipeline/reports/sql/<name>.sql``."""
    return files("pipeline.reports").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


def run_query(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> list[tuple]:
    return con.execute(report_sql(name), params).fetchall()


@dataclass(frozen=True)
class RelatedPaper:
    title: str
    score: float
    shared: list[str]


@dataclass(frozen=True)
class DigestPaper:
    rank: int
    previous_rank: int | None
    status: str
    paper_id: str
    title: str
    abstract: str | None
    keyphrases: list[str]
    code_links: list[str]
    related: list[RelatedPaper] = field(default_factory=list)

    @property
    def movement(self) -> str:
        """``▲3``, ``▼2``, ``=``, ``new`` or ``returned``."""
        if self.previous_rank is None:
            return self.status
        change = self.previous_rank - self.rank
        return f"▲{change}" if change > 0 else f"▼{-change}" if change < 0 else "="


@dataclass(frozen=True)
class Mover:
    """A keyphrase rising or falling against the trailing window."""

    keyphrase: str
    doc_freq: int
    window_doc_freq: int
    z: float
    shares: list[tuple[date, float]]

    @property
    def sparkline(self) -> str:
        return charts.sparkline([share for _, share in self.shares])


@dataclass(frozen=True)
class Digest:
    snapshot_id: str
    observed_on: date
    n_papers: int
    previous_id: str | None
    n_new: int
    n_returned: int
    n_dropped: int
    n_with_code: int
    papers: list[DigestPaper] = field(default_factory=list)
    repos: list[tuple[str, str, int]] = field(default_factory=list)
    rising: list[Mover] = field(default_factory=list)
    falling: list[Mover] = field(default_factory=list)
    code_history: list[tuple[date, float]] = field(default_factory=list)
    top_keywords: list[tuple[str, int]] = field(default_factory=list)
    quiet_fetches: list[tuple[date, str, str]] = field(default_factory=list)

    @property
    def code_share(self) -> float:
        return self.n_with_code / self.n_papers if self.n_papers else 0.0

    @property
    def nothing_new(self) -> bool:
        """A later snapshot that brings no paper that was not in the previous one."""
        return self.previous_id is not None and self.n_new == 0 and self.n_returned == 0


@dataclass(frozen=True)
class RenderedReport:
    markdown: str
    html: str


def load_headlines(con: duckdb.DuckDBPyConnection, snapshot_ids: list[str]) -> dict[str, Digest]:
    """The digests of ``snapshot_ids`` with their headline numbers only (no papers or charts),
    by snapshot id; snapshots not in the warehouse are left out."""
    heads = run_query(con, "digest_head", snapshot_ids=snapshot_ids)
    return {row[0]: Digest(*row) for row in heads}


def load_headline(con: duckdb.DuckDBPyConnection, snapshot_id: str) -> Digest:
    """The digest of ``snapshot_id`` with its headline numbers only (no papers or charts)."""
    head = load_headlines(con, [snapshot_id]).get(snapshot_id)
    if head is None:
        raise LookupError(f"snapshot {snapshot_id!r} is not in the warehouse")
    return head


def top_titles(
    con: duckdb.DuckDBPyConnection, snapshot_ids: list[str], top_n: int
) -> dict[str, list[str]]:
    """Titles of the ``top_n`` best-ranked papers of each of ``snapshot_ids``, best first."""
    return dict(run_query(con, "top_titles", snapshot_ids=snapshot_ids, top_n=top_n))


def _top_ids(con: duckdb.DuckDBPyConnection, snapshot_id: str, top_n: int) -> list[str]:
    rows = con.execute(
        "SELECT paper_id FROM listings WHERE snapshot_id = ? ORDER BY rank LIMIT ?",
        [snapshot_id, top_n],
    ).fetchall()
    return [paper_id for (paper_id,) in rows]


def load_digest(con: duckdb.DuckDBPyConnection, snapshot_id: str, top_n: int = TOP_N) -> Digest:
    """Everything the digest of ``snapshot_id`` shows, read from the warehouse."""
    head = load_headline(con, snapshot_id)
    papers = [
        DigestPaper(
            *row[:8], related=[RelatedPaper(r["title"], r["score"], r["shared"]) for r in row[8]]
        )
        for row in run_query(
            con,
            "digest_papers",
            snapshot_id=snapshot_id,
            observed_on=head.observed_on,
            paper_ids=_top_ids(con, snapshot_id, top_n),
        )
    ]
    repos = con.execute(
        "SELECT repo, url, n_papers FROM top_code_repos WHERE snapshot_id = ? "
        "ORDER BY n_papers DESC, repo_key",
        [snapshot_id],
    ).fetchall()
    movers = [
        Mover(display, doc_freq, window or 0, z, [(s["day"], s["share"]) for s in shares])
        for display, doc_freq, window, z, shares in run_query(
            con, "digest_movers", snapshot_id=snapshot_id, limit=MOVERS, history=HISTORY
        )
    ]
    code_history = run_query(con, "code_history", snapshot_id=snapshot_id, history=HISTORY)
    return replace(
        head,
        papers=papers,
        repos=[tuple(row) for row in repos],
        rising=[m for m in movers if m.z > 0],
        falling=sorted((m for m in movers if m.z < 0), key=lambda m: m.z),
        code_history=[tuple(row) for row in code_history],
        top_keywords=[
            tuple(row)
            for row in run_query(con, "digest_keywords", snapshot_id=snapshot_id, limit=12)
        ],
        quiet_fetches=[
            tuple(row) for row in run_query(con, "quiet_fetches", snapshot_id=snapshot_id)
        ],
    )


def digest_charts(digest: Digest) -> dict[str, str]:
    """Inline SVG charts of the digest, by name; absent when there is nothing to draw."""
    result = {}
    if digest.top_keywords:
        result["keywords"] = charts.bar_chart(digest.top_keywords, "papers")
    if digest.rising or digest.falling:
        result["movers"] = charts.movers_chart(
            [(m.keyphrase, m.z) for m in digest.rising],
            [(m.keyphrase, m.z) for m in digest.falling],
        )
        top = digest.rising[:5]
        if top and len(top[0].shares) > 1:
            result["rising_shares"] = charts.series_chart(
                {m.keyphrase: m.shares for m in top}, "papers with keyphrase (%)", percent=True
            )
    if len(digest.code_history) > 1:
        result["code"] = charts.series_chart(
            {"papers with a code link": digest.code_history}, "share of papers (%)", percent=True
        )
    return result


def render_digest(digest: Digest) -> RenderedReport:
    """The digest as Markdown (terminals, git) and self-contained HTML (browsers, mail)."""
    return RenderedReport(
        markdown=render("digest.md.j2", d=digest),
        html=render("digest.html.j2", d=digest, charts=digest_charts(digest)),
    )
