"""Explicit Arrow schemas of every artifact paperlake writes.

Every format parser returns ``PARSED_PAPERS``; every per-snapshot Parquet artifact is written with
one of the schemas below, so a column can never change type by accident between snapshots.
"""

from __future__ import annotations

import pyarrow as pa

PARSED_PAPERS = pa.schema(
    [
        pa.field("rank", pa.int32(), nullable=False),
        pa.field("paper_id", pa.string(), nullable=False),
        pa.field("title", pa.string(), nullable=False),
        pa.field("abstract", pa.string()),
        pa.field("arxiv_id", pa.string()),
        pa.field("truncated", pa.bool_(), nullable=False),
        # Optional facts some formats carry (card lines, API fields); null where unknown.
        pa.field("authors", pa.list_(pa.string())),
        pa.field("published_on", pa.date32()),
        pa.field("upvotes", pa.int32()),
        pa.field("github_repo", pa.string()),
        pa.field("github_stars", pa.int32()),
    ],
    metadata={"artifact": "papers"},
)

PAPERS = pa.schema(
    [pa.field("snapshot_id", pa.string(), nullable=False), *PARSED_PAPERS],
    metadata={"artifact": "papers"},
)

PAPER_KEYWORDS = pa.schema(
    [
        pa.field("snapshot_id", pa.string(), nullable=False),
        pa.field("paper_id", pa.string(), nullable=False),
        pa.field("rank", pa.int16(), nullable=False),
        pa.field("keyphrase", pa.string(), nullable=False),
        pa.field("display", pa.string(), nullable=False),
        pa.field("score", pa.float64(), nullable=False),
    ],
    metadata={"artifact": "paper_keywords"},
)

PAPER_LINKS = pa.schema(
    [
        pa.field("snapshot_id", pa.string(), nullable=False),
        pa.field("paper_id", pa.string(), nullable=False),
        pa.field("position", pa.int16(), nullable=False),
        pa.field("url_raw", pa.string(), nullable=False),
        pa.field("url", pa.string(), nullable=False),
        pa.field("host", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("repo", pa.string()),
        pa.field("repo_path", pa.string()),
    ],
    metadata={"artifact": "paper_links"},
)


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Select and cast ``table``'s columns to ``schema`` (in its order), failing on a mismatch."""
    return table.select(schema.names).cast(schema)


SNAPSHOTS = pa.schema(
    [
        pa.field("snapshot_id", pa.string(), nullable=False),
        pa.field("source_name", pa.string(), nullable=False),
        pa.field("source_sha256", pa.string(), nullable=False),
        pa.field("format", pa.string(), nullable=False),
        pa.field("encoding", pa.string(), nullable=False),
        pa.field("observed_on", pa.date32(), nullable=False),
        pa.field("ingested_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("n_papers", pa.int32(), nullable=False),
        pa.field("version", pa.string(), nullable=False),
    ],
    metadata={"artifact": "snapshots"},
)

# One row per stored artifact version (see pipeline.artifacts), as mirrored into the warehouse.
ARTIFACT_VERSIONS = pa.schema(
    [
        ("artifact", pa.string()),
        ("partition", pa.string()),
        ("version", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("code_version", pa.string()),
        ("upstream", pa.map_(pa.string(), pa.string())),
        ("rows", pa.int64()),
        ("path", pa.string()),
        ("is_current", pa.bool_()),
    ]
)
