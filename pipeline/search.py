"""Full-text search over titles and abstracts, BM25-ranked, with DuckDB's ``fts`` extension.

The index is a set of immutable segments under ``warehouse/search/``: each a DuckDB file holding
some papers and the fts index over them (``PRAGMA create_fts_index``). A snapshot adds one small
segment with the papers not indexed yet, so indexing costs what the snapshot brings, not the
history; segments of a similar size are merged, four at a time, into one (size-tiered, so each
paper is re-indexed O(log n) times). ``segments.json`` lists the live segments and is replaced
atomically, so a reader always sees a complete index.

BM25 scores come from each segment's own statistics; with size-tiered merging almost every paper
sits in a large segment, so scores are comparable in practice.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.artifacts import write_atomic

# Bump when what a segment holds or how it is indexed changes.
CODE_VERSION = "1"
MANIFEST = "segments.json"
MERGE_FANOUT = 4


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


def segments(folder: Path) -> list[Segment]:
    """The live segments, oldest first."""
    manifest = folder / MANIFEST
    if not manifest.exists():
        return []
    return [Segment(**entry) for entry in json.loads(manifest.read_text())["segments"]]


def _write_manifest(folder: Path, live: list[Segment]) -> None:
    document = {"segments": [{"number": s.number, "papers": s.papers} for s in live]}
    write_atomic(folder / MANIFEST, json.dumps(document, indent=1).encode())


def _build_segment(folder: Path, number: int, docs: pa.Table, fts_extension: Path) -> Segment:
    """Write ``docs`` (paper_id, title, abstract) and their fts index to a new segment file."""
    segment = Segment(number, docs.num_rows)
    final = folder / segment.file_name
    partial = folder / f".{segment.file_name}.partial"
    partial.unlink(missing_ok=True)
    with duckdb.connect(str(partial)) as con:
        con.execute(f"LOAD '{fts_extension}'")
        con.register("incoming", docs)
        con.execute(
            f"CREATE TABLE {segment.table} AS SELECT paper_id, title, abstract FROM incoming"
        )
        con.execute(
            f"PRAGMA create_fts_index('{segment.table}', 'paper_id', 'title', 'abstract', "
            "stemmer='porter', stopwords='english', overwrite=1)"
        )
        con.execute("CHECKPOINT")
    os.replace(partial, final)
    return segment


def indexed_ids(con: duckdb.DuckDBPyConnection, live: Iterable[Segment]) -> set[str]:
    """Paper ids in the live segments (the connection has them attached, see ``attach``)."""
    ids: set[str] = set()
    for segment in live:
        rows = con.execute(f"SELECT paper_id FROM s{segment.number}.{segment.table}").fetchall()
        ids.update(row[0] for row in rows)
    return ids


def attach(con: duckdb.DuckDBPyConnection, folder: Path, fts_extension: Path) -> list[Segment]:
    """Attach every live segment read-only as ``s<number>`` and define ``search_papers(query)``,
    a table macro returning ``paper_id, score`` (BM25, best first)."""
    con.execute(f"LOAD '{fts_extension}'")
    for attempt in range(5):
        live = segments(folder)
        try:
            for segment in live:
                con.execute(
                    f"ATTACH IF NOT EXISTS '{folder / segment.file_name}' AS s{segment.number} (READ_ONLY)"
                )
            break
        except duckdb.IOException:
            # a concurrent merge replaced a segment between reading the manifest and attaching
            for segment in live:
                con.execute(f"DETACH DATABASE IF EXISTS s{segment.number}")
            if attempt == 4:
                raise
    # the fts macros name their tables schema-qualified only; the search path lets them resolve
    # (after the current schema, so unqualified names keep meaning what they meant)
    current = con.execute("SELECT current_database() || '.' || current_schema()").fetchone()[0]
    paths = [current] + [
        f"s{s.number}.{schema}" for s in live for schema in ("main", f"fts_main_{s.table}")
    ]
    con.execute(f"SET search_path = '{','.join(paths)}'")
    if live:
        union = " UNION ALL ".join(
            f"SELECT paper_id, s{s.number}.fts_main_{s.table}.match_bm25(paper_id, q) AS score "
            f"FROM s{s.number}.{s.table}"
            for s in live
        )
        body = (
            f"SELECT paper_id, max(score) AS score FROM ({union}) "
            "WHERE score IS NOT NULL GROUP BY paper_id ORDER BY score DESC, paper_id"
        )
    else:
        body = "SELECT NULL::VARCHAR AS paper_id, NULL::DOUBLE AS score WHERE false AND q IS NULL"
    con.execute(f"CREATE OR REPLACE TEMP MACRO search_papers(q) AS TABLE {body}")
    return live


def add_papers(
    con: duckdb.DuckDBPyConnection, folder: Path, docs: pa.Table, fts_extension: Path
) -> tuple[int, int]:
    """Index the papers of ``docs`` that no live segment holds yet, then merge segments of the
    same size tier; returns (papers indexed, segments merged). ``con`` must have the live
    segments attached; the caller serialises writers."""
    folder.mkdir(parents=True, exist_ok=True)
    live = segments(folder)
    known = indexed_ids(con, live)
    fresh = docs.filter(pc.invert(pc.is_in(docs["paper_id"], pa.array(sorted(known), pa.string()))))
    if fresh.num_rows == 0:
        return 0, 0
    number = max((s.number for s in live), default=0) + 1
    live.append(_attached(con, folder, _build_segment(folder, number, fresh, fts_extension)))
    _write_manifest(folder, live)
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
        replacement = _attached(
            con, folder, _build_segment(folder, number, combined, fts_extension)
        )
        live = [s for s in live if s not in crowded] + [replacement]
        _write_manifest(folder, live)
        for segment in crowded:
            con.execute(f"DETACH s{segment.number}")
        merged += len(crowded)
    _remove_dead_files(folder, live)
    return fresh.num_rows, merged


def _attached(con: duckdb.DuckDBPyConnection, folder: Path, segment: Segment) -> Segment:
    con.execute(f"ATTACH '{folder / segment.file_name}' AS s{segment.number} (READ_ONLY)")
    return segment


def _remove_dead_files(folder: Path, live: list[Segment]) -> None:
    """Delete segment files no manifest lists (readers that still have one open keep reading)."""
    keep = {s.file_name for s in live}
    for path in folder.glob("segment-*.duckdb"):
        if path.name not in keep:
            path.unlink(missing_ok=True)
