"""A snapshot: one raw dump, its papers, and the record the warehouse keeps of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pyarrow as pa

from pipeline.schemas import PAPERS, SNAPSHOTS, conform


@dataclass(frozen=True)
class SnapshotInfo:
    """What is known of a snapshot once its raw dump is archived and parsed."""

    snapshot_id: str
    source_name: str
    source_sha256: str
    format: str
    encoding: str
    observed_on: date
    ingested_at: datetime
    n_papers: int


def with_snapshot_id(parsed: pa.Table, snapshot_id: str) -> pa.Table:
    """The ``papers`` artifact: parsed papers tagged with their snapshot."""
    column = pa.array([snapshot_id] * parsed.num_rows, type=pa.string())
    return conform(parsed.add_column(0, "snapshot_id", column), PAPERS)


def snapshot_record(info: SnapshotInfo, version: str) -> pa.Table:
    """The one-row ``snapshots`` table for a load; ``version`` is the loaded papers' version."""
    row = {**info.__dict__, "version": version}
    return pa.Table.from_pylist([row], schema=SNAPSHOTS)
