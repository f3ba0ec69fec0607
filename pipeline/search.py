"""Full-text search over titles and abstracts, BM25-ranked, with DuckDB's ``fts`` extension.

The index is a set of immutable segments under ``warehouse/search/`` of the shared storage: each
a DuckDB file holding some papers and the fts index over them (``PRAGMA create_fts_index``). On
object storage, each machine keeps a local copy of the segments it reads (they never change).
A snapshot adds one small segment with the papers not indexed yet, so indexing costs what the
snapshot brings, not the history; segments of a similar size are merged, four at a time, into one (size-tiered, so each
paper is re-indexed O(log n) times). ``segments.json`` lists the live segments and is replaced
atomically, so a reader always sees a complete index.

BM25 scores come from each segment's own statistics; with size-tiered merging almost every paper
sits in a large segment, so scores are comparable in practice. A segment never changes, so each
posting stores its share of the score when the segment is built, and each term its best share and
the papers it gives most to: a query sums the shares of its terms' postings, and ``search_best``
takes each segment's best hits before merging them. Segments written by earlier versions get the
tables they lack when a writer opens the warehouse (``upgrade``); until then readers compute them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.duckdb_limits import duckdb_config
from pipeline.home import SEARCH, Home
from pipeline.storage import Storage

# Bump when what a segment holds or how it is indexed changes.
CODE_VERSION = "2"
MANIFEST = "segments.json"
MERGE_FANOUT = 4
STEMMER = "porter"
# A reader removes downloaded segments that are no longer live once they are this old.
PRUNE_AFTER_SECONDS = 300
# Segments of at least this many papers take their best hits by MaxScore (see _BEST_SCORES); in
# smaller ones summing every posting of the query's terms costs less than the bound's queries.
MAXSCORE_FROM_PAPERS = 20_000
# How many of the papers each term gives most to a segment stores (``term_tops``): MaxScore's
# starting bound for up to this many hits. A query for more still gets exactly its best hits.
TERM_LEADERS = 100

log = logging.getLogger("paperlake")


@dataclass(frozen=True)
class Segment:
    number: int
    papers: int

    @property
    def table(self) -> str:
        return f"docs_{self.number}"

    @property
    def file_name(self) -> str:
        return f"segment-{self.number}.duckdb"

    @property
    def tier(self) -> int:
        return int(math.log(max(self.papers, 1), MERGE_FANOUT))


@dataclass(frozen=True)
class SegmentFiles:
    """Where the segments live (``storage``) and where this machine reads them (``local``: the
    same folder on a local disk, a cache of downloaded segments otherwise)."""

    storage: Storage
    local: Path

    @classmethod
    def of(cls, storage: Storage, cache: Path) -> SegmentFiles:
        return cls(storage, storage.local_path() if storage.is_local else cache)

    def live(self) -> list[Segment]:
        """The live segments, oldest first."""
        text = self.storage.read_text(MANIFEST)
        return [Segment(**entry) for entry in json.loads(text)["segments"]] if text else []

    def write_manifest(self, live: list[Segment]) -> None:
        document = {"segments": [{"number": s.number, "papers": s.papers} for s in live]}
        self.storage.write(MANIFEST, json.dumps(document, indent=1).encode())

    def path(self, segment: Segment) -> Path:
        """The segment's file on this machine, downloaded first if needed."""
        local = self.local / segment.file_name
        if not local.exists():
            self.local.mkdir(parents=True, exist_ok=True)
            partial = self.local / f".{segment.file_name}.download"
            self.storage.download(segment.file_name, partial)
            os.replace(partial, local)
        return local

    def prune_local(self, live: list[Segment], min_age: float = 0.0) -> None:
        """Delete the files on this machine that are not live segments (and are at least
        ``min_age`` seconds old, so a segment being published is never taken)."""
        keep = {s.file_name for s in live}
        cutoff = time.time() - min_age
        for path in self.local.glob("segment-*.duckdb"):
            with contextlib.suppress(FileNotFoundError):
                if path.name not in keep and path.stat().st_mtime <= cutoff:
                    path.unlink()

    def publish(self, built: Path, segment: Segment) -> None:
        """Make a segment built at ``built`` (in ``local``) visible to every machine."""
        final = self.local / segment.file_name
        os.replace(built, final)
        if not self.storage.is_local:
            self.storage.upload(final, segment.file_name)

    def remove_dead(self, live: list[Segment]) -> None:
        """Delete segment files no manifest lists (readers that still have one open keep
        reading)."""
        keep = {s.file_name for s in live}
        self.prune_local(live)
        if not self.storage.is_local:
            for info in self.storage.list():
                if info.base_name.startswith("segment-") and info.base_name not in keep:
                    self.storage.delete(info.base_name)


def segment_files(home: Home) -> SegmentFiles:
    """The search segments of ``home``: ``warehouse/search`` of its shared storage."""
    return SegmentFiles.of(home.shared.child(SEARCH), home.root / "cache" / "search")


def _build_segment(
    files: SegmentFiles, number: int, docs: pa.Table, fts_extension: Path, threads: int | None
) -> Segment:
    """Write ``docs`` (paper_id, title, abstract) and their fts index to a new segment file,
    with ``threads`` DuckDB threads (None: every core)."""
    segment = Segment(number, docs.num_rows)
    files.local.mkdir(parents=True, exist_ok=True)
    partial = files.local / f".{segment.file_name}.partial"
    partial.unlink(missing_ok=True)
    # (spilling next to the segment file when the index outgrows the memory limit)
    with duckdb.connect(str(partial), config=duckdb_config(threads)) as con:
        con.execute(f"LOAD '{fts_extension}'")
        con.register("incoming", docs)
        con.execute(
            f"CREATE TABLE {segment.table} AS SELECT paper_id, title, abstract FROM incoming"
        )
        con.execute(
            f"PRAGMA create_fts_index('{segment.table}', 'paper_id', 'title', 'abstract', "
            f"stemmer='{STEMMER}', stopwords='english', overwrite=1)"
        )
        misplaced = con.execute(
            f"SELECT count(*) FROM fts_main_{segment.table}.docs WHERE docid <> rowid"
        ).fetchone()[0]
        if misplaced:
            # _named fetches paper ids by row number
            raise RuntimeError(
                f"the fts extension numbered {misplaced} papers of search segment {number} "
                "out of row order; this DuckDB version is not supported"
            )
        for sql in SCORE_TABLES.values():
            con.execute(sql.format(fts=f"fts_main_{segment.table}", leaders=TERM_LEADERS))
        con.execute("CHECKPOINT")
    files.publish(partial, segment)
    return segment


def _new_segment(
    con: duckdb.DuckDBPyConnection,
    files: SegmentFiles,
    number: int,
    docs: pa.Table,
    fts_extension: Path,
) -> Segment:
    """Build segment ``number`` from ``docs`` with the warehouse connection's thread count and
    attach it to that connection."""
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    return _attached(con, files, _build_segment(files, number, docs, fts_extension, threads))


def indexed_ids(
    con: duckdb.DuckDBPyConnection, live: Iterable[Segment], paper_ids: pa.Array
) -> set[str]:
    """Which of ``paper_ids`` the live segments hold (the connection has them attached, see
    ``attach``); the segments are searched in DuckDB, not read out."""
    selects = [
        f"SELECT paper_id FROM s{s.number}.{s.table} WHERE paper_id IN (SELECT id FROM wanted)"
        for s in live
    ]
    if not selects:
        return set()
    con.register("wanted", pa.table({"id": paper_ids}))
    try:
        return {row[0] for row in con.execute(" UNION ALL ".join(selects)).fetchall()}
    finally:
        con.unregister("wanted")


def attach(
    con: duckdb.DuckDBPyConnection, files: SegmentFiles, fts_extension: Path
) -> list[Segment]:
    """Attach every live segment read-only as ``s<number>`` and define ``search_papers(query)``,
    a table macro returning ``paper_id, score`` (BM25, best first), and ``search_best(query, k)``,
    its first ``k`` rows. Called again after segments were replaced, it names the live ones."""
    con.execute(f"LOAD '{fts_extension}'")
    for attempt in range(5):
        live = files.live()
        try:
            for segment in live:
                con.execute(
                    f"ATTACH IF NOT EXISTS '{files.path(segment)}' AS s{segment.number} (READ_ONLY)"
                )
            break
        except (duckdb.IOException, FileNotFoundError):
            # a concurrent merge replaced a segment between reading the manifest and attaching
            for segment in live:
                con.execute(f"DETACH DATABASE IF EXISTS s{segment.number}")
            if attempt == 4:
                raise
    if not files.storage.is_local:
        # this machine's copies of segments merged away elsewhere
        files.prune_local(live, min_age=PRUNE_AFTER_SECONDS)
    # the fts macros name their tables schema-qualified only; the search path lets them resolve
    # (after the current schema, so unqualified names keep meaning what they meant)
    current = con.execute("SELECT current_database() || '.' || current_schema()").fetchone()[0]
    paths = [current] + [
        f"s{s.number}.{schema}" for s in live for schema in ("main", f"fts_main_{s.table}")
    ]
    con.execute(f"SET search_path = '{','.join(paths)}'")
    held = _score_tables(con, live)
    if live:
        every = " UNION ALL ".join(_segment_scores(s, held[s]) for s in live)
        best = " UNION ALL ".join(_segment_scores(s, held[s], top="k") for s in live)
        merged = "SELECT paper_id, max(score) AS score FROM ({}) GROUP BY paper_id"
        every_body = merged.format(every) + " ORDER BY score DESC, paper_id"
        # A paper among the k best overall is among the k best of the segment that gives it its
        # best score, so each segment's k best (ties included) are all that need merging.
        best_body = merged.format(best) + " ORDER BY score DESC, paper_id LIMIT k"
    else:
        every_body = best_body = (
            "SELECT NULL::VARCHAR AS paper_id, NULL::DOUBLE AS score WHERE false AND q IS NULL"
        )
    con.execute(f"CREATE OR REPLACE TEMP MACRO search_papers(q) AS TABLE {every_body}")
    con.execute(f"CREATE OR REPLACE TEMP MACRO search_best(q, k) AS TABLE {best_body}")
    return live


def _score_tables(
    con: duckdb.DuckDBPyConnection, live: list[Segment]
) -> dict[Segment, frozenset[str]]:
    """Which of ``SCORE_TABLES`` each attached segment holds (segments written by earlier
    versions lack some). Each segment is asked by name: listing ``duckdb_tables()`` would read
    the warehouse catalog's every table too."""
    held = {}
    for segment in live:
        names = set()
        for name in SCORE_TABLES:
            try:
                con.execute(
                    f"SELECT 1 FROM s{segment.number}.fts_main_{segment.table}.{name} LIMIT 0"
                )
            except duckdb.CatalogException:
                break
            names.add(name)
        held[segment] = frozenset(names)
    return held


# A segment's BM25 (as the fts extension's ``match_bm25`` computes it, k=1.2, b=0.75) is fixed
# once it is built, so each (term, paper) pair's share of the score is stored: a query sums the
# shares of its terms' postings. Postings are sorted by term, so a query reads only the row
# groups that hold its terms.
# BM25 share of one (term, paper) pair, from ``tt.tf`` (occurrences), ``di`` (the term's dict
# row), ``d`` (the paper's docs row) and ``st`` (the segment's stats).
_BM25_PART = (
    "log((st.num_docs - di.df + 0.5) / (di.df + 0.5) + 1)"
    " * (tt.tf * (1.2 + 1) / (tt.tf + 1.2 * (1 - 0.75 + 0.75 * (d.len / st.avgdl))))"
)
_POSTINGS = f"""
CREATE TABLE {{fts}}.postings AS
SELECT tt.termid, tt.docid, {_BM25_PART} AS part
FROM (SELECT docid, termid, count(*) AS tf FROM {{fts}}.terms GROUP BY docid, termid) tt
JOIN {{fts}}.dict di USING (termid)
JOIN {{fts}}.docs d USING (docid)
CROSS JOIN {{fts}}.stats st
ORDER BY termid, docid
"""


# Each term's best share and its ``TERM_LEADERS`` papers with the largest shares (best first):
# MaxScore's first step (see _BEST_SCORES) without a pass over the query terms' postings.
_TERM_TOPS = """
CREATE TABLE {fts}.term_tops AS
SELECT termid, max(part) AS best, max_by(docid, part, {leaders}) AS leaders
FROM {fts}.postings GROUP BY termid ORDER BY termid
"""
# What a segment stores besides its fts index, in the order they are built.
SCORE_TABLES = {"postings": _POSTINGS, "term_tops": _TERM_TOPS}


def _segment_scores(segment: Segment, held: frozenset[str], top: str | None = None) -> str:
    """SQL for ``docid, score`` of one segment's papers that contain a word of the query ``q``
    (with ``top``, only those that score among its ``top`` best, ties included), from the score
    tables the segment ``held``. With ``postings``, a query sums stored shares; segments built
    before shares were stored compute BM25 from the term occurrences of the query's terms.
    (``match_bm25`` is a per-document function: a query through it reads every document of the
    segment.)"""
    fts = f"s{segment.number}.fts_main_{segment.table}"
    query_terms = (
        f"SELECT termid FROM {fts}.dict WHERE term IN "
        f"(SELECT DISTINCT stem(unnest({fts}.tokenize(q)), '{STEMMER}'))"
    )
    if "postings" in held and top is not None and segment.papers >= MAXSCORE_FROM_PAPERS:
        if "term_tops" in held:
            tops = (
                f"SELECT termid, best, leaders[1:{top}] AS leaders FROM {fts}.term_tops "
                f"WHERE termid IN ({query_terms})"
            )
        else:
            tops = (
                f"SELECT termid, max(part) AS best, max_by(docid, part, {top}) AS leaders "
                f"FROM {fts}.postings WHERE termid IN ({query_terms}) GROUP BY termid"
            )
        return _named(fts, _BEST_SCORES.format(fts=fts, term_tops=tops, k=top), few=True)
    if "postings" in held:
        scores = (
            f"SELECT docid, sum(part) AS score FROM {fts}.postings "
            f"WHERE termid IN ({query_terms}) GROUP BY docid"
        )
    else:
        scores = f"""
            SELECT tt.docid, sum({_BM25_PART}) AS score
            FROM (
                SELECT docid, termid, count(*) AS tf FROM {fts}.terms
                WHERE termid IN ({query_terms}) GROUP BY docid, termid
            ) tt
            JOIN {fts}.dict di USING (termid)
            JOIN {fts}.docs d USING (docid)
            CROSS JOIN {fts}.stats st
            GROUP BY tt.docid"""
    if top is None:
        return _named(fts, scores, few=False)
    return _named(fts, _with_ties(scores, top), few=True)


def _named(fts: str, scores: str, few: bool) -> str:
    """``scores`` (docid, score) with each docid's paper id. For ``few`` rows (a top k), the ids
    are fetched by row number: a segment stores its docs rows in docid order from 0 (checked
    when it is built). At 1,000,000 papers that takes 7 ms for 20 hits where joining every paper
    of the segment takes 32 ms; for most of the segment's papers the join is faster."""
    if not few:
        return (
            f"SELECT d.name AS paper_id, s.score FROM ({scores}) s JOIN {fts}.docs d USING (docid)"
        )
    return f"""
        SELECT * FROM (
            WITH scored AS MATERIALIZED ({scores})
            SELECT d.name AS paper_id, s.score FROM scored s JOIN (
                SELECT rowid AS docid, name FROM {fts}.docs
                WHERE rowid IN (SELECT docid FROM scored)
            ) d USING (docid)
        )"""


def _with_ties(scores: str, top: str) -> str:
    """The rows of ``scores`` among its ``top`` best, ties included (a threshold from a top-k
    aggregate: ranking every hit with a window costs more)."""
    return (
        f"WITH hits AS ({scores}) SELECT * FROM hits "
        f"WHERE score >= (SELECT list_min(max(score, {top})) FROM hits)"
    )


# A segment's k best by MaxScore: a common query word is in most papers, and summing every posting
# of the query's terms groups nearly every paper of the segment. Instead:
# 1. each query term's best share, and the (up to) k papers it gives most to ("leaders"), stored
#    in ``term_tops``;
# 2. theta, the k-th best full score among the leaders: at least k papers reach it, so a paper
#    below it is not among the k best;
# 3. the terms with the smallest best shares whose bests sum below theta are optional: a paper
#    with only those cannot reach theta. A paper that reaches it has, in every term t, a share of
#    at least theta - (sum of the other terms' bests) ("need"), so only postings of the other
#    (essential) terms that meet their need are grouped, and a paper is kept only if its
#    essential sum plus the optional terms' bests can still reach theta;
# 4. the kept papers' optional shares are added, and the k best (ties included) taken.
# Every paper that reaches theta is kept with its exact score, so the result is what the plain
# sum gives (tests/test_search.py compares them); thresholds are lowered by 1e-9 so rounding in
# the sums never drops a tie. Any k papers give a valid theta, so a query for more hits than
# a term stores leaders still gets exactly its best; with fewer than k leaders in all, theta is 0
# and every posting is summed.
_BEST_SCORES = """
WITH query_terms AS MATERIALIZED ({term_tops}),
leader_scores AS (
    SELECT docid, sum(part) AS score FROM {fts}.postings
    WHERE termid IN (SELECT termid FROM query_terms)
      AND docid IN (SELECT unnest(leaders) FROM query_terms)
    GROUP BY docid
),
bound AS MATERIALIZED (
    SELECT CASE WHEN count(*) >= {k} THEN list_min(max(score, {k})) ELSE 0 END - 1e-9 AS theta
    FROM leader_scores
),
plan AS MATERIALIZED (
    SELECT termid, best, theta - (sum(best) OVER () - best) AS need,
           sum(best) OVER (ORDER BY best, termid ROWS UNBOUNDED PRECEDING) < theta AS optional
    FROM query_terms, bound
),
essential AS MATERIALIZED (
    SELECT p.docid, sum(p.part) AS partial FROM {fts}.postings p JOIN plan n USING (termid)
    WHERE NOT n.optional AND p.part >= n.need
    GROUP BY p.docid
    HAVING sum(p.part) + (SELECT coalesce(sum(best), 0) FROM plan WHERE optional)
           >= (SELECT theta FROM bound)
),
optional_shares AS (
    SELECT docid, sum(part) AS rest FROM {fts}.postings
    WHERE termid IN (SELECT termid FROM plan WHERE optional)
      AND docid IN (SELECT docid FROM essential)
    GROUP BY docid
),
hits AS MATERIALIZED (
    SELECT e.docid, e.partial + coalesce(o.rest, 0) AS score
    FROM essential e LEFT JOIN optional_shares o USING (docid)
)
SELECT * FROM hits WHERE score >= (SELECT list_min(max(score, {k})) FROM hits)
"""


def add_papers(
    con: duckdb.DuckDBPyConnection, files: SegmentFiles, docs: pa.Table, fts_extension: Path
) -> tuple[int, int]:
    """Index the papers of ``docs`` that no live segment holds yet, then merge segments of the
    same size tier; returns (papers indexed, segments merged). ``con`` must have the live
    segments attached; the caller serialises writers."""
    live = files.live()
    known = indexed_ids(con, live, docs["paper_id"])
    fresh = docs.filter(pc.invert(pc.is_in(docs["paper_id"], pa.array(sorted(known), pa.string()))))
    if fresh.num_rows == 0:
        files.remove_dead(live)
        return 0, 0
    number = max((s.number for s in live), default=0) + 1
    live.append(_new_segment(con, files, number, fresh, fts_extension))
    files.write_manifest(live)
    merged = 0
    while True:
        tiers: dict[int, list[Segment]] = {}
        for segment in live:
            tiers.setdefault(segment.tier, []).append(segment)
        crowded = next((group for group in tiers.values() if len(group) >= MERGE_FANOUT), None)
        if crowded is None:
            break
        union = " UNION ALL ".join(
            f"SELECT paper_id, title, abstract FROM s{s.number}.{s.table}" for s in crowded
        )
        combined = con.execute(f"SELECT DISTINCT ON (paper_id) * FROM ({union})").to_arrow_table()
        number = max(s.number for s in live) + 1
        replacement = _new_segment(con, files, number, combined, fts_extension)
        live = [s for s in live if s not in crowded] + [replacement]
        files.write_manifest(live)
        _detach(con, crowded)
        attach(con, files, fts_extension)
        merged += len(crowded)
    files.remove_dead(live)
    return fresh.num_rows, merged


def upgrade(
    con: duckdb.DuckDBPyConnection, files: SegmentFiles, fts_extension: Path
) -> list[Segment]:
    """Rebuild every live segment that lacks a score table (written by an earlier version;
    readers compute what it lacks until then); returns the live segments. ``con`` must have them
    attached; the caller serialises writers."""
    live = files.live()
    held = _score_tables(con, live)
    for old in [s for s in live if held[s] != set(SCORE_TABLES)]:
        log.info(
            "rebuilding search segment %d (%d papers) with its score tables (once after an "
            "upgrade)",
            old.number,
            old.papers,
        )
        start = time.perf_counter()
        docs = con.execute(
            f"SELECT paper_id, title, abstract FROM s{old.number}.{old.table}"
        ).to_arrow_table()
        number = max(s.number for s in live) + 1
        rebuilt = _new_segment(con, files, number, docs, fts_extension)
        live = [rebuilt if s == old else s for s in live]
        files.write_manifest(live)
        _detach(con, [old])
        log.info("rebuilt search segment %d in %.1f s", old.number, time.perf_counter() - start)
    if live != list(held):
        attach(con, files, fts_extension)
        files.remove_dead(live)
    return live


def _detach(con: duckdb.DuckDBPyConnection, segments: list[Segment]) -> None:
    """Detach replaced segments; the search path keeps only the current schema until ``attach``
    names the live segments again (a path naming a detached database breaks every statement)."""
    current = con.execute("SELECT current_database() || '.' || current_schema()").fetchone()[0]
    con.execute(f"SET search_path = '{current}'")
    for segment in segments:
        con.execute(f"DETACH s{segment.number}")


def _attached(con: duckdb.DuckDBPyConnection, files: SegmentFiles, segment: Segment) -> Segment:
    con.execute(f"ATTACH '{files.path(segment)}' AS s{segment.number} (READ_ONLY)")
    return segment
