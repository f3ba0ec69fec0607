"""Immutable, content-addressed artifacts with a per-partition pointer to the current version.

Layout under the store root::

    <artifact>/<partition>/<version><suffix>   the bytes, never rewritten
    <artifact>/<partition>/<version>.manifest.json   its manifest (lineage, rows, created_at)
    <artifact>/<partition>/current.json              the manifest of the current version

The store lives in a ``Storage``: a local folder or a prefix on object storage. A version is the
SHA-256 of the artifact's bytes, so storing identical bytes again creates no new version. Every
file is written whole (a temporary file and a rename on a local disk, one upload on object
storage): a crash never leaves a half-written artifact or pointer visible.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.home import ARTIFACTS, Home
from pipeline.storage import (
    Storage,
    StorageError,
    open_storage,
    remove_stale_temporaries,
)

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

    @property
    def blob(self) -> str:
        """The stored bytes' name inside the store (``path`` is its full address when written,
        which a moved home or a renamed bucket no longer matches)."""
        return f"{self.artifact}/{self.partition}/{self.path.rsplit('/', 1)[-1]}"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ArtifactVersion:
        return cls(**json.loads(text))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ArtifactFacts(NamedTuple):
    """What a manifest records besides the version: how and from what it was made."""

    code_version: str
    rows: int | None = None
    upstream: dict[str, str] | None = None
    extra: dict[str, Any] | None = None


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
    """Content-addressed artifact storage rooted at one folder, local or on object storage."""

    def __init__(self, root: Storage | Path) -> None:
        self.storage = root if isinstance(root, Storage) else open_storage(str(root))

    @property
    def location(self) -> str:
        return self.storage.url()

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
            lambda name: self.storage.write(name, data),
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
        """Store tables arriving one batch at a time as one zstd Parquet file, streamed to a
        local scratch file (memory holds one batch); its version is the hash of the file."""
        folder = f"{artifact}/{partition}"
        try:
            scratch_folder = self.storage.scratch_folder(folder)
            remove_stale_temporaries(scratch_folder)
            fd, name = tempfile.mkstemp(dir=scratch_folder, prefix=".batches.", suffix=".tmp")
        except OSError as error:
            raise StorageError(self.storage.url(folder), error) from error
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
                lambda blob: self.storage.upload(scratch, blob),
                ArtifactFacts(code_version, rows, upstream),
            )
        except StorageError:
            raise
        except OSError as error:
            raise StorageError(self.storage.url(folder), error) from error
        finally:
            scratch.unlink(missing_ok=True)

    def _commit(
        self,
        artifact: str,
        partition: str,
        version: str,
        suffix: str,
        write_blob: Callable[[str], None],
        facts: ArtifactFacts,
    ) -> ArtifactVersion:
        folder = f"{artifact}/{partition}"
        current = self.current(artifact, partition)
        if current is not None and current.version == version:
            if facts.upstream is None or dict(facts.upstream) == current.upstream:
                return current
            relinked = replace(
                current, upstream=dict(facts.upstream), code_version=facts.code_version
            )
            self._write_manifest(folder, relinked)
            return relinked
        blob = f"{folder}/{version}{suffix}"
        if not self.storage.exists(blob):
            write_blob(blob)
        manifest = ArtifactVersion(
            artifact=artifact,
            partition=partition,
            version=version,
            path=self.storage.url(blob),
            created_at=datetime.now(UTC).isoformat(timespec="microseconds"),
            code_version=facts.code_version,
            rows=facts.rows,
            upstream=dict(facts.upstream or {}),
            extra=dict(facts.extra or {}),
        )
        self._write_manifest(folder, manifest)
        return manifest

    def _write_manifest(self, folder: str, manifest: ArtifactVersion) -> None:
        """The version's manifest, then the pointer that makes it current."""
        encoded = manifest.to_json().encode("utf-8")
        self.storage.write(f"{folder}/{manifest.version}{MANIFEST_SUFFIX}", encoded)
        self.storage.write(f"{folder}/{CURRENT}", encoded)

    def current(self, artifact: str, partition: str) -> ArtifactVersion | None:
        text = self.storage.read_text(f"{artifact}/{partition}/{CURRENT}")
        return None if text is None else ArtifactVersion.from_json(text)

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
        folder = "/".join(part for part in (artifact, partition if artifact else None) if part)
        found = []
        for info in self.storage.list(folder, recursive=True):
            parts = info.path.split("/")
            if len(parts) != 3 or not parts[2].endswith(MANIFEST_SUFFIX):
                continue
            if partition is not None and parts[1] != partition:
                continue
            found.append(ArtifactVersion.from_json(self.storage.read(info.path).decode("utf-8")))
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
        blob = version.blob
        freed = self.storage.size(blob) if self.storage.exists(blob) else 0
        self.storage.delete(blob)
        folder = f"{version.artifact}/{version.partition}"
        self.storage.delete(f"{folder}/{version.version}{MANIFEST_SUFFIX}")
        return freed

    def parquet_file(self, version: ArtifactVersion) -> pq.ParquetFile:
        """The version's Parquet file, opened for reading row groups."""
        return pq.ParquetFile(self.storage.open(version.blob))

    def read_version(self, version: ArtifactVersion) -> pa.Table:
        return self.parquet_file(version).read()

    def read_table(self, artifact: str, partition: str) -> pa.Table:
        return self.read_version(self.require(artifact, partition))

    def read_bytes(self, artifact: str, partition: str) -> bytes:
        return self.storage.read(self.require(artifact, partition).blob)

    def local_copy(self, version: ArtifactVersion) -> contextlib.AbstractContextManager[Path]:
        """A path on this machine holding the version's bytes (a download when remote)."""
        return self.storage.local_copy(version.blob)


def artifact_store(home: Home) -> ArtifactStore:
    """The artifact store of ``home`` (under its shared storage)."""
    return ArtifactStore(home.shared.child(ARTIFACTS))
