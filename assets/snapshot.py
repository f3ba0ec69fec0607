"""Per-snapshot artifacts: the archived raw dump and the Parquet tables derived from it."""

from datetime import date
from pathlib import Path

import dagster as dg
import pyarrow as pa

from assets.metadata import artifact_metadata, preview
from assets.partitions import snapshots
from assets.resources import PaperlakeResource
from pipeline import formats, keyphrases, links
from pipeline.artifacts import ArtifactVersion
from pipeline.formats import ParseError, parse_dump
from pipeline.ingest import RAW_ARTIFACT, archive_snapshot
from pipeline.snapshots import with_snapshot_id

OWNERS = ["team:paperlake"]


class RawListingConfig(dg.Config):
    """Which landed file to archive; empty means the file named after the partition, or the
    already archived version when nothing new has landed."""

    landing_file: str = ""


@dg.asset(
    partitions_def=snapshots,
    group_name="ingest",
    kinds={"file"},
    owners=OWNERS,
    code_version=formats.CODE_VERSION,
)
def raw_listing(
    context: dg.AssetExecutionContext, config: RawListingConfig, paperlake: PaperlakeResource
) -> dg.MaterializeResult:
    """The snapshot's raw dump, archived immutably under its SHA-256.

    The dump is parsed once to prove it is usable; a dump that is empty, binary, not text, or not
    a listing is moved to the quarantine folder with a sidecar naming the problem, and this step
    fails with that reason. The data version is the dump's SHA-256, so re-ingesting identical
    bytes leaves everything downstream fresh.
    """
    home = paperlake.paths
    try:
        version = archive_snapshot(
            home, paperlake.store, context.partition_key, config.landing_file or None
        )
    except ParseError as error:
        raise dg.Failure(
            description=f"rejected {error}; moved to {home.quarantine}",
            metadata={
                "problem": error.problem,
                "quarantine": dg.MetadataValue.path(str(home.quarantine)),
            },
        ) from None
    except LookupError as error:
        raise dg.Failure(description=str(error)) from None
    return dg.MaterializeResult(
        data_version=dg.DataVersion(version.version),
        metadata={
            **artifact_metadata(version),
            "source_name": version.extra["source_name"],
            "format": version.extra["format"],
            "encoding": version.extra["encoding"],
            "observed_on": version.extra["observed_on"],
        },
    )


@dg.asset(
    partitions_def=snapshots,
    group_name="snapshot",
    kinds={"parquet", "polars"},
    owners=OWNERS,
    code_version=formats.CODE_VERSION,
    deps=[raw_listing],
)
def papers(context: dg.AssetExecutionContext, paperlake: PaperlakeResource) -> dg.MaterializeResult:
    """The snapshot's papers in listing order (Parquet, zstd): rank, stable paper_id, title,
    abstract, arXiv id, a `truncated` flag and the optional card facts."""
    key = context.partition_key
    raw = paperlake.store.require(RAW_ARTIFACT, key)
    try:
        parsed = parse_dump(Path(raw.path).read_bytes(), raw.extra["source_name"])
    except ParseError as error:
        raise dg.Failure(description=f"archived dump no longer parses: {error}") from None
    table = with_snapshot_id(parsed.papers, key)
    version = paperlake.store.put_table(
        "papers",
        key,
        table,
        code_version=formats.CODE_VERSION,
        upstream={RAW_ARTIFACT: raw.version},
    )
    return _table_result(version, table, ["rank", "paper_id", "title", "truncated"])


@dg.asset(
    partitions_def=snapshots,
    group_name="snapshot",
    kinds={"parquet", "polars"},
    owners=OWNERS,
    code_version=keyphrases.CODE_VERSION,
    deps=[papers],
)
def paper_keywords(
    context: dg.AssetExecutionContext, paperlake: PaperlakeResource
) -> dg.MaterializeResult:
    """Top keyphrases of every paper in the snapshot, ranked, with a normalised key (so
    "neural networks" and "neural network" are one keyphrase) and the form as written."""
    key = context.partition_key
    source = paperlake.store.require("papers", key)
    table = keyphrases.keyphrase_table(paperlake.store.read_table("papers", key))
    version = paperlake.store.put_table(
        "paper_keywords",
        key,
        table,
        code_version=keyphrases.CODE_VERSION,
        upstream={"papers": source.version},
    )
    return _table_result(version, table, ["paper_id", "rank", "display", "score"])


@dg.asset(
    partitions_def=snapshots,
    group_name="snapshot",
    kinds={"parquet", "polars"},
    owners=OWNERS,
    code_version=links.CODE_VERSION,
    deps=[papers],
)
def paper_links(
    context: dg.AssetExecutionContext, paperlake: PaperlakeResource
) -> dg.MaterializeResult:
    """Every URL in the snapshot's titles and abstracts: as written, canonical, host, kind
    (code, project_page, dataset, demo, paper, shortener, other) and owner/repo for code hosts."""
    key = context.partition_key
    source = paperlake.store.require("papers", key)
    table = links.link_table(paperlake.store.read_table("papers", key))
    version = paperlake.store.put_table(
        "paper_links",
        key,
        table,
        code_version=links.CODE_VERSION,
        upstream={"papers": source.version},
    )
    return _table_result(version, table, ["paper_id", "kind", "url"])


def _table_result(
    version: ArtifactVersion, table: pa.Table, preview_columns: list[str]
) -> dg.MaterializeResult:
    return dg.MaterializeResult(
        data_version=dg.DataVersion(version.version),
        metadata={**artifact_metadata(version, table), "preview": preview(table, preview_columns)},
    )


def observed_date(raw: ArtifactVersion) -> date:
    return date.fromisoformat(raw.extra["observed_on"])
