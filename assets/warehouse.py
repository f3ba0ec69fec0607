"""Warehouse tables: one snapshot loaded into DuckLake in one transaction."""

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg

from assets.metadata import column_schema, preview
from assets.partitions import snapshots
from assets.resources import PaperlakeResource
from assets.snapshot import OWNERS, observed_date, paper_keywords, paper_links, papers, raw_listing
from pipeline import related, search, warehouse
from pipeline.ingest import RAW_ARTIFACT
from pipeline.lake import lake_location
from pipeline.snapshots import SnapshotInfo, snapshot_record

# table -> (description, upstream assets); every table is loaded by the same transaction.
TABLES: dict[str, tuple[str, list[dg.AssetsDefinition]]] = {
    "snapshots": (
        "One row per snapshot: source file, SHA-256, format, date, paper count.",
        [raw_listing, papers],
    ),
    "papers": ("One row per paper across all snapshots, with first and last seen dates.", [papers]),
    "listings": ("Where each paper ranked in each snapshot.", [papers]),
    "paper_keywords": ("Keyphrases of each paper in each snapshot.", [paper_keywords]),
    "paper_links": ("Canonical, classified links of each paper in each snapshot.", [paper_links]),
    "keywords": (
        "Corpus statistics per keyphrase, updated incrementally per snapshot.",
        [paper_keywords],
    ),
    "keyword_trends": ("Per-snapshot keyphrase document frequency and share.", [paper_keywords]),
}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["warehouse", table],
            description=description,
            deps=upstream,
            group_name="warehouse",
            kinds={"duckdb"},
            owners=OWNERS,
            code_version=warehouse.LOAD_VERSION,
            metadata={"dagster/table_name": f"lake.{table}"},
        )
        for table, (description, upstream) in TABLES.items()
    ],
    partitions_def=snapshots,
    can_subset=False,
)
def warehouse_tables(
    context: dg.AssetExecutionContext, paperlake: PaperlakeResource
) -> Iterator[dg.MaterializeResult]:
    """Loads one snapshot into the DuckLake warehouse, replacing any earlier version of it in a
    single transaction: readers see the old snapshot or the new one, never a mixture. Writers take
    turns on the warehouse's writer lock (another run's load waits, and says so in its log)."""
    key = context.partition_key
    store = paperlake.store
    raw = store.require(RAW_ARTIFACT, key)
    versions = {
        name: store.require(name, key) for name in ("papers", "paper_keywords", "paper_links")
    }
    papers_table = store.read_table("papers", key)
    info = SnapshotInfo(
        snapshot_id=key,
        source_name=raw.extra["source_name"],
        source_sha256=raw.version,
        format=raw.extra["format"],
        encoding=raw.extra["encoding"],
        observed_on=observed_date(raw),
        ingested_at=datetime.fromisoformat(raw.created_at).astimezone(UTC),
        n_papers=papers_table.num_rows,
    )
    keywords_table = store.read_table("paper_keywords", key)
    links_table = store.read_table("paper_links", key)
    with warehouse.session(paperlake.paths) as con:
        warehouse.load_snapshot(
            con,
            snapshot_record(info, versions["papers"].version),
            papers_table,
            keywords_table,
            links_table,
        )
        warehouse.record_versions(
            con,
            store,
            [(name, key) for name in (RAW_ARTIFACT, "papers", "paper_keywords", "paper_links")],
        )
    # the figures for the UI are read after the writer lock is released
    with warehouse.session(paperlake.paths, read_only=True, search=False) as con:
        counts = _partition_counts(con, key)
        schemas = {table: _table_schema(con, table) for table in TABLES}
    data_version = hashlib.sha256(
        "|".join(
            [warehouse.LOAD_VERSION, raw.version, *(v.version for v in versions.values())]
        ).encode()
    ).hexdigest()
    for table in TABLES:
        yield dg.MaterializeResult(
            asset_key=["warehouse", table],
            data_version=dg.DataVersion(data_version),
            metadata={
                "dagster/partition_row_count": counts[table],
                "dagster/row_count": counts[f"{table}_total"],
                "dagster/column_schema": schemas[table],
                "catalog": lake_location(paperlake.paths).describe(),
            },
        )


def _partition_counts(con, key: str) -> dict[str, int]:
    own_rows = "SELECT count(*) FROM {} WHERE snapshot_id = $key"
    # every listed paper is in papers and every keyphrase of the snapshot in keywords, so those
    # counts come from the snapshot's own rows rather than a scan of the whole table
    partition = {
        **{table: own_rows.format(table) for table in TABLES},
        "papers": own_rows.format("listings"),
        "keywords": "SELECT count(DISTINCT keyphrase) FROM paper_keywords WHERE snapshot_id = $key",
    }
    # (the keywords view has a row per row of keyword_stats, whose count is in the metadata)
    stored = {**{table: table for table in TABLES}, "keywords": "keyword_stats"}
    counts: dict[str, int] = {}
    for table in TABLES:
        row = con.execute(
            f"SELECT ({partition[table]}), (SELECT count(*) FROM {stored[table]})", {"key": key}
        ).fetchone()
        counts[table], counts[f"{table}_total"] = row
    return counts


def _table_schema(con, table: str) -> dg.TableSchema:
    arrow = con.execute(f"SELECT * FROM {table} LIMIT 0").to_arrow_table().schema
    return column_schema(arrow)


@dg.asset(
    key=["warehouse", "related_papers"],
    partitions_def=snapshots,
    deps=[dg.AssetKey(["warehouse", "papers"]), dg.AssetKey(["warehouse", "listings"])],
    group_name="warehouse",
    kinds={"duckdb"},
    owners=OWNERS,
    code_version=related.CODE_VERSION,
    metadata={"dagster/table_name": "lake.related_edges"},
)
def related_papers(
    context: dg.AssetExecutionContext, paperlake: PaperlakeResource
) -> dg.MaterializeResult:
    """Each paper's nearest neighbours across the whole corpus (cosine similarity of TF-IDF term
    vectors), with the shared terms as evidence. Incremental: only the snapshot's papers that
    are not indexed yet are scored, and known papers' lists are updated where a new paper now
    ranks; nothing is recomputed for the rest of history."""
    key = context.partition_key
    with warehouse.session(paperlake.paths) as con:
        fresh = warehouse.index_related(
            con,
            key,
            progress=lambda done, total: context.log.info(
                f"related papers: {done:,} of {total:,} papers indexed"
            ),
        )
    with warehouse.session(paperlake.paths, read_only=True, search=False) as con:
        # (two counts: the snapshot's own reads its files only, the total comes from metadata)
        edges, total = con.execute(
            "SELECT (SELECT count(*) FROM related_edges WHERE snapshot_id = ?), "
            "(SELECT count(*) FROM related_edges)",
            [key],
        ).fetchone()
        sample = warehouse.strongest_links(con, key, 10)
    return dg.MaterializeResult(
        metadata={
            "newly_indexed_papers": fresh,
            "edges_written": edges,
            "dagster/row_count": total,
            "strongest_links": preview(sample, sample.column_names),
        },
    )


@dg.asset(
    key=["warehouse", "search_index"],
    partitions_def=snapshots,
    deps=[dg.AssetKey(["warehouse", "papers"]), dg.AssetKey(["warehouse", "listings"])],
    group_name="warehouse",
    kinds={"duckdb"},
    owners=OWNERS,
    code_version=search.CODE_VERSION,
)
def search_index(
    context: dg.AssetExecutionContext, paperlake: PaperlakeResource
) -> dg.MaterializeResult:
    """Full-text search over titles and abstracts (DuckDB fts, BM25): the snapshot's papers that
    are not searchable yet go into a new index segment; segments of a similar size are merged.
    Query it with `paperlake search "..."` or the SQL macro `search_papers('...')`."""
    home = paperlake.paths
    with warehouse.session(home) as con:
        added, merged = warehouse.index_search(con, home, context.partition_key)
    files = search.segment_files(home)
    live = files.live()
    return dg.MaterializeResult(
        metadata={
            "papers_indexed": added,
            "segments_merged": merged,
            "segments": len(live),
            "dagster/row_count": sum(s.papers for s in live),
            "folder": dg.MetadataValue.path(files.storage.url()),
        }
    )
