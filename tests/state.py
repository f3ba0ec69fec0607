"""What a paperlake home holds, reduced to comparable fingerprints, and the invariants it keeps."""

import hashlib
import json

import duckdb

from pipeline import related, warehouse
from pipeline.artifacts import CURRENT, ArtifactVersion, artifact_store, sha256_hex
from pipeline.home import Home

# Columns that record when something happened, which differs between two otherwise equal runs.
CLOCK_COLUMNS = {"ingested_at", "created_at", "path"}
TABLES = [
    "snapshots",
    "papers",
    "listings",
    "paper_keywords",
    "paper_links",
    "keywords",
    "keyword_trends",
    "related_papers",
    "paper_terms",
    "term_stats",
    "indexed_papers",
    "artifact_versions",
]
# Keys that must be unique in each table.
UNIQUE = {
    "snapshots": ["snapshot_id"],
    "papers": ["paper_id"],
    "listings": ["snapshot_id", "paper_id"],
    "paper_keywords": ["snapshot_id", "paper_id", "keyphrase"],
    "paper_links": ["snapshot_id", "paper_id", "url"],
    "keywords": ["keyphrase"],
    "keyword_trends": ["snapshot_id", "keyphrase"],
    "related_papers": ["paper_id", "related_id"],
    "indexed_papers": ["paper_id"],
    "artifact_versions": ["artifact", "partition", "version"],
}
# Artifacts whose content records a time (the feed's entry dates) are left out of fingerprints.
TIMED_ARTIFACTS = {"digest_feed"}


def current_artifacts(home: Home, skip: frozenset[str] = frozenset()) -> dict[str, str]:
    """artifact/partition -> current version, checking each pointer leads to intact bytes."""
    storage = artifact_store(home).storage
    pointers = sorted(
        info.path for info in storage.list(recursive=True) if info.base_name == CURRENT
    )
    found = {}
    for pointer in pointers:
        version = ArtifactVersion.from_json(storage.read(pointer).decode())
        blob = version.blob
        assert storage.exists(blob), f"{pointer} points to a missing {blob}"
        assert sha256_hex(storage.read(blob)) == version.version, (
            f"{blob} is not what {pointer} says"
        )
        if version.artifact not in TIMED_ARTIFACTS | skip:
            found[f"{version.artifact}/{version.partition}"] = version.version
    return found


def table_rows(con: duckdb.DuckDBPyConnection, table: str, skip: frozenset[str] = frozenset()):
    """Every row of a warehouse table, sorted, without the clock columns (and without the
    ``skip`` artifacts' rows in ``artifact_versions``)."""
    columns = [
        name
        for (name,) in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_catalog = 'lake' AND table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
        if name not in CLOCK_COLUMNS
    ]
    where = ""
    if table == "artifact_versions":
        left_out = sorted(TIMED_ARTIFACTS | skip)
        where = f" WHERE artifact NOT IN ({', '.join(repr(a) for a in left_out)})"
    return con.execute(f"SELECT {', '.join(columns)} FROM {table}{where} ORDER BY ALL").fetchall()


def table_fingerprints(
    con: duckdb.DuckDBPyConnection, skip: frozenset[str] = frozenset()
) -> dict[str, str]:
    return {
        table: hashlib.sha256(
            json.dumps(table_rows(con, table, skip), default=str).encode()
        ).hexdigest()
        for table in TABLES
    }


def related_index_problems(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """Indexed papers whose stored top scores are not their best stored edges' scores, or whose
    last score is not the last of a full list, and term index rows without a term key or with a
    wrong paper key."""
    return con.execute(
        f"""
        SELECT 'top_scores', i.paper_id FROM indexed_papers i LEFT JOIN (
            SELECT paper_id, list(score ORDER BY score DESC)[1:{related.NEIGHBOURS}] AS scores
            FROM related_edges GROUP BY paper_id
        ) e USING (paper_id)
        WHERE i.top_scores IS DISTINCT FROM coalesce(e.scores, [])
        UNION ALL
        SELECT 'last_score', paper_id FROM indexed_papers
        WHERE last_score IS DISTINCT FROM top_scores[{related.NEIGHBOURS}]
        UNION ALL
        SELECT 'term_key', term FROM paper_terms WHERE term_key IS NULL
        UNION ALL
        SELECT 'term_key', doc_freq::VARCHAR FROM term_stats WHERE term_key IS NULL
        UNION ALL
        SELECT 'paper_key', paper_id FROM paper_terms
        WHERE paper_key IS DISTINCT FROM md5_number_lower(paper_id)
        UNION ALL
        SELECT 'paper_key', paper_id FROM indexed_papers
        WHERE paper_key IS DISTINCT FROM md5_number_lower(paper_id)
        UNION ALL
        SELECT 'paper_key', paper_id FROM related_edges
        WHERE paper_key IS DISTINCT FROM md5_number_lower(paper_id)
        ORDER BY ALL
        """
    ).fetchall()


def check_invariants(home: Home) -> None:
    """No partial artifact is visible and no table holds a duplicate or a half-loaded snapshot."""
    current_artifacts(home)
    stored = artifact_store(home).storage.list(recursive=True)
    for info in stored:
        if not info.base_name.startswith("."):
            assert not info.base_name.endswith((".tmp", ".partial")), info.path
    if not warehouse.exists(home):
        return
    try:
        con = warehouse.connect(home, read_only=True)
    except warehouse.WarehouseMissingError:
        return  # the first run was stopped before the warehouse had tables
    try:
        for table, key in UNIQUE.items():
            duplicates = con.execute(
                f"SELECT count(*) FROM (SELECT {', '.join(key)} FROM {table} GROUP BY ALL HAVING count(*) > 1)"
            ).fetchone()[0]
            assert duplicates == 0, f"{table} has duplicate {key}"
        half_loaded = con.execute(
            "SELECT s.snapshot_id FROM snapshots s WHERE s.n_papers <> "
            "(SELECT count(*) FROM listings l WHERE l.snapshot_id = s.snapshot_id)"
        ).fetchall()
        assert half_loaded == [], half_loaded
        problems = related_index_problems(con)
        assert problems == [], problems[:5]
    finally:
        con.close()


def fingerprint(home: Home, skip: frozenset[str] = frozenset()) -> dict[str, dict[str, str]]:
    """Current artifacts and warehouse tables of ``home`` (leaving out the ``skip`` artifacts)."""
    check_invariants(home)
    with warehouse.session(home, read_only=True) as con:
        return {
            "artifacts": current_artifacts(home, skip),
            "tables": table_fingerprints(con, skip),
        }
