"""The daily digest of one snapshot: what is new, what moved, where the code is."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb

from pipeline.reports.render import render

# Bump when the digest's content or templates change.
CODE_VERSION = "1"
TOP_N = 25


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

    @property
    def movement(self) -> str:
        """``▲3``, ``▼2``, ``=``, ``new`` or ``returned``."""
        if self.previous_rank is None:
            return self.status
        change = self.previous_rank - self.rank
        return f"▲{change}" if change > 0 else f"▼{-change}" if change < 0 else "="


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

    @property
    def code_share(self) -> float:
        return self.n_with_code / self.n_papers if self.n_papers else 0.0


@dataclass(frozen=True)
class RenderedReport:
    markdown: str
    html: str


def load_digest(con: duckdb.DuckDBPyConnection, snapshot_id: str, top_n: int = TOP_N) -> Digest:
    """Everything the digest of ``snapshot_id`` shows, read from the warehouse."""
    head = con.execute(
        """
        SELECT q.observed_on, q.n_papers, q.previous_id,
               (SELECT count(*) FROM listing_changes c
                 WHERE c.snapshot_id = q.snapshot_id AND c.status = 'new'),
               (SELECT count(*) FROM listing_changes c
                 WHERE c.snapshot_id = q.snapshot_id AND c.status = 'returned'),
               (SELECT count(*) FROM dropped_papers d WHERE d.snapshot_id = q.snapshot_id),
               (SELECT count(DISTINCT paper_id) FROM paper_links k
                 WHERE k.snapshot_id = q.snapshot_id AND k.kind = 'code')
        FROM snapshot_sequence q WHERE q.snapshot_id = ?
        """,
        [snapshot_id],
    ).fetchone()
    if head is None:
        raise LookupError(f"snapshot {snapshot_id!r} is not in the warehouse")
    rows = con.execute(
        """
        SELECT c.rank, c.previous_rank, c.status, c.paper_id, p.title, p.abstract,
               coalesce((SELECT list(k.display ORDER BY k.rank) FROM paper_keywords k
                          WHERE k.snapshot_id = c.snapshot_id AND k.paper_id = c.paper_id), []),
               coalesce((SELECT list(DISTINCT l.url) FROM paper_links l
                          WHERE l.snapshot_id = c.snapshot_id AND l.paper_id = c.paper_id
                            AND l.kind = 'code'), [])
        FROM listing_changes c JOIN papers p USING (paper_id)
        WHERE c.snapshot_id = ?
        ORDER BY c.rank
        LIMIT ?
        """,
        [snapshot_id, top_n],
    ).fetchall()
    repos = con.execute(
        "SELECT repo, url, n_papers FROM top_code_repos WHERE snapshot_id = ? "
        "ORDER BY n_papers DESC, repo_key",
        [snapshot_id],
    ).fetchall()
    observed_on, n_papers, previous_id, n_new, n_returned, n_dropped, n_with_code = head
    return Digest(
        snapshot_id=snapshot_id,
        observed_on=observed_on,
        n_papers=n_papers,
        previous_id=previous_id,
        n_new=n_new,
        n_returned=n_returned,
        n_dropped=n_dropped,
        n_with_code=n_with_code,
        papers=[DigestPaper(*row) for row in rows],
        repos=[tuple(row) for row in repos],
    )


def render_digest(digest: Digest) -> RenderedReport:
    """The digest as Markdown (terminals, git) and self-contained HTML (browsers, mail)."""
    return RenderedReport(
        markdown=render("digest.md.j2", d=digest),
        html=render("digest.html.j2", d=digest),
    )
