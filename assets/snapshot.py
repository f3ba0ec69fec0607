"""Per-snapshot artifacts: the archived raw dump and the Parquet tables derived from it."""

import mmap
from collections.abc import Callable
from datetime import date

import dagster as dg
import pyarrow as pa

from assets.metadata import artifact_metadata, preview
from assets.partitions import snapshots
from assets.resources import PaperlakeResource
from pipeline import formats, keyphrases, links
from pipeline.artifacts import ArtifactStore, ArtifactVersion
from pipeline.batches import map_parquet, parse_dump_batches
from pipeline.formats import ParseError
from pipeline.home import QUARANTINE
from pipeline.ingest import RAW_ARTIFACT, archive_snapshot
from pipeline.schemas import PAPER_KEYWORDS, PAPER_LINKS, PAPERS
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
        quarantine_folder = home.shared.url(QUARANTINE)
        raise dg.Failure(
            description=f"rejected {error}; moved to {quarantine_folder}",
            metadata={
                "problem": error.problem,
                "quarantine": dg.MetadataValue.path(quarantine_folder),
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
    store = paperlake.store
    raw = store.require(RAW_ARTIFACT, key)
    with (
        store.local_copy(raw) as dump,
        open(dump, "rb") as handle,
        mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data,
    ):
        try:
            _, batches = parse_dump_batches(data, raw.extra["source_name"])
            version = store.put_batches(
                "papers",
                key,
                (with_snapshot_id(batch, key) for batch in batches),
                PAPERS,
                code_version=formats.CODE_VERSION,
                upstream={RAW_ARTIFACT: raw.version},
            )
        except ParseError as error:
            raise dg.Failure(description=f"archived dump does not parse: {error}") from None
    return _table_result(store, version, ["rank", "paper_id", "title", "truncated"])


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
    return _per_paper_table(
        paperlake.store,
        context.partition_key,
        "paper_keywords",
        keyphrases.keyphrase_table,
        PAPER_KEYWORDS,
        keyphrases.CODE_VERSION,
        ["paper_id", "rank", "display", "score"],
    )


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
    return _per_paper_table(
        paperlake.store,
        context.partition_key,
        "paper_links",
        links.link_table,
        PAPER_LINKS,
        links.CODE_VERSION,
        ["paper_id", "kind", "url"],
    )


def _per_paper_table(
    store: ArtifactStore,
    key: str,
    artifact: str,
    derive: Callable[[pa.Table], pa.Table],
    schema: pa.Schema,
    code_version: str,
    preview_columns: list[str],
) -> dg.MaterializeResult:
    """``derive`` applied to the snapshot's papers one row group at a time (on the worker
    pool), stored as the ``artifact`` table."""
    source = store.require("papers", key)
    with store.local_copy(source) as papers_file:
        version = store.put_batches(
            artifact,
            key,
            map_parquet(derive, papers_file),
            schema,
            code_version=code_version,
            upstream={"papers": source.version},
        )
    return _table_result(store, version, preview_columns)


def _table_result(
    store: ArtifactStore, version: ArtifactVersion, preview_columns: list[str]
) -> dg.MaterializeResult:
    """A stored table's version and metadata, previewing its first rows (read from storage, so
    a table of any size costs the same)."""
    stored = store.parquet_file(version)
    head = (
        stored.read_row_group(0, columns=preview_columns)
        if stored.num_row_groups
        else stored.schema_arrow.empty_table().select(preview_columns)
    )
    return dg.MaterializeResult(
        data_version=dg.DataVersion(version.version),
        metadata={
            **artifact_metadata(version, stored.schema_arrow),
            "preview": preview(head, preview_columns),
        },
    )


def observed_date(raw: ArtifactVersion) -> date:
    return date.fromisoformat(raw.extra["observed_on"])
