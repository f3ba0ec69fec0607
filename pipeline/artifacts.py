"""Immutable, content-addressed artifacts with a per-partition pointer to the current version.

Layout under the store root::

    <artifact>/<partition>/<version><suffix>   the bytes, never rewritten
    <artifact>/<partition>/<version>.json      its manifest (lineage, row count, created_at)
    <artifact>/<partition>/current.json        the manifest of the current version

A version is the SHA-256 of the artifact's bytes, so storing identical bytes again creates no new
version. Every file is written to a temporary name and renamed into place: a crash never leaves a
half-written artifact or pointer visible.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

CURRENT = "current.json"
PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd", "compression_level": 3}


@dataclass(frozen=True)
class ArtifactVersion:
    """One stored version of one artifact partition."""

    artifact: str
    partition: str
    version: str
    path: str
    created_at: str
    code_version: str
    rows: int | None = None
    upstream: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def short(self) -> str:
        return self.version[:12]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ArtifactVersion:
        return cls(**json.loads(text))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def parquet_bytes(table: pa.Table) -> bytes:
    """``table`` as zstd-compressed Parquet bytes (deterministic for a given table)."""
    sink = io.BytesIO()
    pq.write_table(table, sink, **PARQUET_OPTIONS)
    return sink.getvalue()


class ArtifactStore:
    """Content-addressed artifact storage rooted at one folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(
        self,
        artifact: str,
        partition: str,
        data: bytes,
        *,
        suffix: str,
        code_version: str,
        rows: int | None = None,
        upstream: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> ArtifactVersion:
        """Store ``data`` as the current version of ``artifact``/``partition``.

        Identical bytes that are already current are left alone and their manifest returned.
        """
        version = sha256_hex(data)
        folder = self.root / artifact / partition
        current = self.current(artifact, partition)
        if current is not None and current.version == version:
            return current
        blob = folder / f"{version}{suffix}"
        if not blob.exists():
            write_atomic(blob, data)
        manifest = ArtifactVersion(
            artifact=artifact,
            partition=partition,
            version=version,
            path=str(blob),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            code_version=code_version,
            rows=rows,
            upstream=dict(upstream or {}),
            extra=dict(extra or {}),
        )
        encoded = manifest.to_json().encode("utf-8")
        write_atomic(folder / f"{version}.json", encoded)
        write_atomic(folder / CURRENT, encoded)
        return manifest

    def put_table(
        self,
        artifact: str,
        partition: str,
        table: pa.Table,
        *,
        code_version: str,
        upstream: dict[str, str] | None = None,
    ) -> ArtifactVersion:
        """Store ``table`` as zstd Parquet; its version is the hash of the Parquet bytes."""
        return self.put(
            artifact,
            partition,
            parquet_bytes(table),
            suffix=".parquet",
            code_version=code_version,
            rows=table.num_rows,
            upstream=upstream,
        )

    def current(self, artifact: str, partition: str) -> ArtifactVersion | None:
        pointer = self.root / artifact / partition / CURRENT
        if not pointer.exists():
            return None
        return ArtifactVersion.from_json(pointer.read_text(encoding="utf-8"))

    def require(self, artifact: str, partition: str) -> ArtifactVersion:
        """The current version, or an error that says which asset to materialize first."""
        found = self.current(artifact, partition)
        if found is None:
            raise LookupError(
                f"no {artifact} artifact for snapshot {partition!r} yet; "
                f"materialize {artifact} for that partition first"
            )
        return found

    def read_table(self, artifact: str, partition: str) -> pa.Table:
        return pq.read_table(self.require(artifact, partition).path)

    def read_bytes(self, artifact: str, partition: str) -> bytes:
        return Path(self.require(artifact, partition).path).read_bytes()
