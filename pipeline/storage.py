"""Where shared state lives: a local folder, or a prefix in an S3-compatible object store.

Landing, quarantine, artifacts, published reports and the search index are addressed by names
relative to one ``Storage``; the same code runs on a local disk (the default, inside
``PAPERLAKE_HOME``) and on object storage (``PAPERLAKE_STORAGE=s3://bucket/prefix``), so steps on
several machines need no shared volume. Files are written whole: on a local disk through a
temporary file and a rename, on object storage by one upload that becomes visible when complete.

S3 credentials come from the standard AWS variables; a non-AWS server is named by
``PAPERLAKE_S3_ENDPOINT`` (``host:port``, plain HTTP unless ``PAPERLAKE_S3_USE_SSL`` is true).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs

STORAGE_ENV = "PAPERLAKE_STORAGE"
S3_ENDPOINT_ENV = "PAPERLAKE_S3_ENDPOINT"
S3_USE_SSL_ENV = "PAPERLAKE_S3_USE_SSL"
OBJECT_STORE_SCHEMES = ("s3://", "s3a://")


STALE_TEMPORARY_SECONDS = 600
_STORAGE_PROBLEMS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EFBIG: "the file is larger than this system allows",
    errno.EROFS: "the folder is on a read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}


class StorageError(OSError):
    """A write that failed for lack of space or permission; nothing already stored changed."""

    def __init__(self, path: Path | str, cause: OSError) -> None:
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
    remove_stale_temporaries(path.parent)
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


def remove_stale_temporaries(folder: Path) -> None:
    cutoff = time.time() - STALE_TEMPORARY_SECONDS
    for leftover in folder.glob(".*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()


@dataclass(frozen=True)
class S3Settings:
    """Credentials and endpoint of an S3-compatible object store, from the environment."""

    key_id: str
    secret: str
    region: str
    endpoint: str
    use_ssl: bool

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> S3Settings:
        return cls(
            key_id=env.get("AWS_ACCESS_KEY_ID", ""),
            secret=env.get("AWS_SECRET_ACCESS_KEY", ""),
            region=env.get("AWS_REGION", env.get("AWS_DEFAULT_REGION", "us-east-1")),
            endpoint=env.get(S3_ENDPOINT_ENV, "").strip(),
            use_ssl=env.get(S3_USE_SSL_ENV, "false").lower() in ("1", "true", "yes"),
        )

    def filesystem(self) -> pafs.S3FileSystem:
        options: dict[str, object] = {"region": self.region}
        if self.key_id:
            options |= {"access_key": self.key_id, "secret_key": self.secret}
        if self.endpoint:
            options |= {
                "endpoint_override": self.endpoint,
                "scheme": "https" if self.use_ssl else "http",
            }
        return pafs.S3FileSystem(**options)


def is_object_store(url: str) -> bool:
    return url.startswith(OBJECT_STORE_SCHEMES)


@dataclass(frozen=True)
class Storage:
    """A folder (``root``) on ``fs``; files in it are named by ``/``-separated relative names."""

    fs: pafs.FileSystem
    root: str
    scheme: str = ""

    @property
    def is_local(self) -> bool:
        return not self.scheme

    def child(self, name: str) -> Storage:
        return Storage(self.fs, self._path(name), self.scheme)

    def url(self, name: str = "") -> str:
        """What users and DuckDB see: a local path, or ``s3://bucket/key``."""
        path = self._path(name)
        return f"{self.scheme}://{path}" if self.scheme else path

    def uri(self, name: str = "") -> str:
        """An address for links: ``file://…`` on a local disk, else ``s3://…``."""
        return self.local_path(name).as_uri() if self.is_local else self.url(name)

    def local_path(self, name: str = "") -> Path:
        """The file's path on this machine (local storage only)."""
        if not self.is_local:
            raise ValueError(f"{self.url(name)} is not on the local disk")
        return Path(self._path(name))

    def _path(self, name: str) -> str:
        return f"{self.root}/{name.strip('/')}" if name.strip("/") else self.root

    def exists(self, name: str) -> bool:
        return self.fs.get_file_info(self._path(name)).type == pafs.FileType.File

    def size(self, name: str) -> int:
        return self.fs.get_file_info(self._path(name)).size or 0

    def read(self, name: str) -> bytes:
        with self.fs.open_input_stream(self._path(name)) as stream:
            return stream.read()

    def read_text(self, name: str) -> str | None:
        """The file's text, or None when it does not exist."""
        try:
            return self.read(name).decode("utf-8")
        except FileNotFoundError:
            return None

    def open(self, name: str) -> pa.NativeFile:
        """A random-access reader (for Parquet)."""
        return self.fs.open_input_file(self._path(name))

    def write(self, name: str, data: bytes) -> None:
        """Store ``data`` as ``name``, whole or not at all."""
        if self.is_local:
            write_atomic(self.local_path(name), data)
            return
        with self.fs.open_output_stream(self._path(name)) as stream:
            stream.write(data)

    def upload(self, source: Path, name: str) -> None:
        """Put the local file ``source`` in place as ``name``: renamed on a local disk, copied
        (the source stays) to object storage."""
        if self.is_local:
            target = self.local_path(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
            return
        pafs.copy_files(
            str(source),
            self._path(name),
            source_filesystem=pafs.LocalFileSystem(),
            destination_filesystem=self.fs,
        )

    def move(self, source: str, target: str) -> None:
        if self.is_local:
            self.local_path(target).parent.mkdir(parents=True, exist_ok=True)
        self.fs.move(self._path(source), self._path(target))

    def delete(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.delete_file(self._path(name))

    def list(self, folder: str = "", *, recursive: bool = False) -> list[pafs.FileInfo]:
        """Files under ``folder`` (names relative to this storage in ``.path``)."""
        base = self._path(folder)
        selector = pafs.FileSelector(base, recursive=recursive, allow_not_found=True)
        found = []
        for info in self.fs.get_file_info(selector):
            if info.type != pafs.FileType.File:
                continue
            relative = info.path[len(self.root) + 1 :]
            found.append(pafs.FileInfo(relative, info.type, size=info.size, mtime=info.mtime))
        return found

    @contextlib.contextmanager
    def local_copy(self, name: str) -> Iterator[Path]:
        """A path on this machine holding the file: itself on a local disk, else a temporary
        download removed afterwards."""
        if self.is_local:
            yield self.local_path(name)
            return
        with tempfile.TemporaryDirectory(prefix="paperlake-") as scratch:
            target = Path(scratch) / Path(name).name
            self.download(name, target)
            yield target

    def download(self, name: str, target: Path) -> None:
        """Copy the file ``name`` to the local path ``target``, streaming."""
        with self.fs.open_input_stream(self._path(name)) as stream, target.open("wb") as out:
            shutil.copyfileobj(stream, out, 1 << 20)

    def scratch_folder(self, name: str) -> Path:
        """A local folder for files about to be uploaded as ``name/…``: the target folder itself
        on a local disk (so the upload is a rename), else the system's temporary folder."""
        if self.is_local:
            folder = self.local_path(name)
            folder.mkdir(parents=True, exist_ok=True)
            return folder
        folder = Path(tempfile.gettempdir()) / "paperlake-uploads"
        folder.mkdir(exist_ok=True)
        return folder


def open_storage(url: str, env: Mapping[str, str] | None = None) -> Storage:
    """Storage rooted at ``url``: a local folder, or ``s3://bucket/prefix``."""
    env = os.environ if env is None else env
    if is_object_store(url):
        _, _, rest = url.partition("://")
        root = rest.strip("/")
        if not root:
            raise ValueError(f"{url!r} names no bucket: use s3://BUCKET[/PREFIX]")
        return Storage(S3Settings.from_env(env).filesystem(), root, "s3")
    if "://" in url and not url.startswith("file://"):
        raise ValueError(f"{STORAGE_ENV}={url!r}: expected a local folder or s3://BUCKET[/PREFIX]")
    local = Path(url.removeprefix("file://")).expanduser().resolve()
    return Storage(pafs.LocalFileSystem(), local.as_posix())
