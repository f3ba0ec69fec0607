"""Immutable, content-addressed artifacts with a per-partition pointer to the current version.

Layout under the store root::

    <artifact>/<partition>/<version><suffix>   the bytes, never rewritten
    <artifact>/<partition>/<version>.manifest.json   its manifest (lineage, rows, created_at)
    <artifact>/<partition>/current.json              the manifest of the current version

A version is the SHA-256 of the artifact's bytes, so storing identical bytes again creates no new
version. Every file is written to a temporary name and renamed into place: a crash never leaves a
half-written artifact or pointer visible.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq

CURRENT = "current.json"
MANIFEST_SUFFIX = ".manifest.json"
PARQUET_OPTIONS: dict[str, Any] = {"compression": "zstd", "compression_level": 3}
# Rows per Parquet row group: the unit that batch work (keyphrases, links) reads at a time.
ROW_GROUP_ROWS = 16_384


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


STALE_TEMPORARY_SECONDS = 600
_STORAGE_PROBLEMS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EFBIG: "the file is larger than this system allows",
    errno.EROFS: "the folder is on a read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}


class ArtifactFacts(NamedTuple):
    """What a manifest records besides the version: how and from what it was made."""

    code_version: str
    rows: int | None = None
    upstream: dict[str, str] | None = None
    extra: dict[str, Any] | None = None


class StorageError(OSError):
    """A write that failed for lack of space or permission; nothing already stored changed."""

    def __init__(self, path: Path, cause: OSError) -> None:
        reason = _STORAGE_PROBLEMS.get(cause.errno or 0, cause.strerror or str(cause))
        super().__init__(
            cause.errno, f"could not write {path}: {reason}; the previous version is unchanged"
        )


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    Temporary files that a killed writer left in the folder (hidden, ``.tmp``) are removed once
    they are old enough that no live writer can still own them.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise StorageError(path, error) from error
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as error:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise StorageError(path, error) from error
        raise


def _remove_stale_temporaries(folder: Path) -> None:
    cutoff = time.time() - STALE_TEMPORARY_SECONDS
    for leftover in folder.glob(".*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()


def parquet_bytes(table: pa.Table) -> bytes:
    """``table`` as zstd-compressed Parquet bytes (deterministic for a given table)."""
    sink = io.BytesIO()
    _write_parquet([table], sink, table.schema)
    return sink.getvalue()


def _write_parquet(batches: Iterable[pa.Table], sink: Any, schema: pa.Schema) -> int:
    """Tables written one after another to one Parquet file, a row group per ``ROW_GROUP_ROWS``
    rows at most; returns the rows written."""
    rows = 0
    with pq.ParquetWriter(sink, schema, **PARQUET_OPTIONS) as writer:
        for batch in batches:
            writer.write_table(batch.cast(schema), row_group_size=ROW_GROUP_ROWS)
            rows += batch.num_rows
    return rows


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


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

        Identical bytes that are already current make no new version; if they were made from
        other upstream versions this time, the manifest records those instead.
        """
        return self._commit(
            artifact,
            partition,
            sha256_hex(data),
            suffix,
            lambda blob: write_atomic(blob, data),
            ArtifactFacts(code_version, rows, upstream, extra),
        )

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
        return self.put_batches(
            artifact, partition, [table], table.schema, code_version=code_version, upstream=upstream
        )

    def put_batches(
        self,
        artifact: str,
        partition: str,
        batches: Iterable[pa.Table],
        schema: pa.Schema,
        *,
        code_version: str,
        upstream: dict[str, str] | None = None,
    ) -> ArtifactVersion:
        """Store tables arriving one batch at a time as one zstd Parquet file, streamed to disk
        (memory holds one batch); its version is the hash of the file."""
        folder = self.root / artifact / partition
        folder.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(folder)
        try:
            fd, name = tempfile.mkstemp(dir=folder, prefix=".batches.", suffix=".tmp")
        except OSError as error:
            raise StorageError(folder, error) from error
        scratch = Path(name)
        try:
            with os.fdopen(fd, "wb") as handle:
                rows = _write_parquet(batches, handle, schema)
                handle.flush()
                os.fsync(handle.fileno())
            return self._commit(
                artifact,
                partition,
                _file_sha256(scratch),
                ".parquet",
                lambda blob: os.replace(scratch, blob),
                ArtifactFacts(code_version, rows, upstream),
            )
        except StorageError:
            raise
        except OSError as error:
            raise StorageError(folder, error) from error
        finally:
            scratch.unlink(missing_ok=True)

    def _commit(
        self,
        artifact: str,
        partition: str,
        version: str,
        suffix: str,
        write_blob: Callable[[Path], None],
        facts: ArtifactFacts,
    ) -> ArtifactVersion:
        folder = self.root / artifact / partition
        current = self.current(artifact, partition)
        if current is not None and current.version == version:
            if facts.upstream is None or dict(facts.upstream) == current.upstream:
                return current
            relinked = replace(
                current, upstream=dict(facts.upstream), code_version=facts.code_version
            )
            encoded = relinked.to_json().encode("utf-8")
            write_atomic(folder / f"{version}{MANIFEST_SUFFIX}", encoded)
            write_atomic(folder / CURRENT, encoded)
            return relinked
        blob = folder / f"{version}{suffix}"
        if not blob.exists():
            write_blob(blob)
        manifest = ArtifactVersion(
            artifact=artifact,
            partition=partition,
            version=version,
            path=str(blob),
            created_at=datetime.now(UTC).isoformat(timespec="microseconds"),
            code_version=facts.code_version,
            rows=facts.rows,
            upstream=dict(facts.upstream or {}),
            extra=dict(facts.extra or {}),
        )
        encoded = manifest.to_json().encode("utf-8")
        write_atomic(folder / f"{version}{MANIFEST_SUFFIX}", encoded)
        write_atomic(folder / CURRENT, encoded)
        return manifest

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

    def versions(
        self, artifact: str | None = None, partition: str | None = None
    ) -> list[ArtifactVersion]:
        """Every stored version (of one artifact / partition when given), oldest first."""
        pattern = f"{artifact or '*'}/{partition or '*'}/*{MANIFEST_SUFFIX}"
        found = [
            ArtifactVersion.from_json(path.read_text(encoding="utf-8"))
            for path in self.root.glob(pattern)
        ]
        return sorted(found, key=lambda v: (v.artifact, v.partition, v.created_at, v.version))

    def find(self, prefix: str, artifact: str | None = None) -> ArtifactVersion:
        """The one version whose hash starts with ``prefix`` (at least 6 characters)."""
        if len(prefix) < 6:
            raise LookupError(f"version {prefix!r} is too short: give at least 6 characters")
        matches = [v for v in self.versions(artifact) if v.version.startswith(prefix.lower())]
        distinct = {(v.artifact, v.version) for v in matches}
        if not distinct:
            raise LookupError(f"no {artifact or 'artifact'} version starts with {prefix!r}")
        if len(distinct) > 1:
            raise LookupError(f"{prefix!r} matches {len(distinct)} versions; give more characters")
        return matches[0]

    def is_current(self, version: ArtifactVersion) -> bool:
        current = self.current(version.artifact, version.partition)
        return current is not None and current.version == version.version

    def remove(self, version: ArtifactVersion) -> int:
        """Delete a version that is not current; returns the bytes freed."""
        if self.is_current(version):
            raise ValueError(f"{version.artifact}/{version.partition} {version.short} is current")
        blob = Path(version.path)
        freed = blob.stat().st_size if blob.exists() else 0
        blob.unlink(missing_ok=True)
        (blob.parent / f"{version.version}{MANIFEST_SUFFIX}").unlink(missing_ok=True)
        return freed

    def read_version(self, version: ArtifactVersion) -> pa.Table:
        return pq.read_table(version.path)

    def read_table(self, artifact: str, partition: str) -> pa.Table:
        return pq.read_table(self.require(artifact, partition).path)

    def read_bytes(self, artifact: str, partition: str) -> bytes:
        return Path(self.require(artifact, partition).path).read_bytes()
