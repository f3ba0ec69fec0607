"""The landing folder: where dumps arrive, how they are named, and where bad ones go.

File names are untrusted. A snapshot key derived from a name contains only ``[A-Za-z0-9._-]``,
never starts with a dot, and is at most ``MAX_KEY_CHARS`` long, so it is safe both as a Dagster
partition key and as a folder name inside ``PAPERLAKE_HOME``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from pipeline.artifacts import write_atomic
from pipeline.formats.errors import ParseError
from pipeline.home import Home

MAX_KEY_CHARS = 100
_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class LandedFile:
    """A file waiting in the landing folder."""

    path: Path
    key: str
    size: int
    mtime_ns: int

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def fingerprint(self) -> str:
        """Changes whenever the file is rewritten; used to request one run per arrival."""
        return f"{self.size}:{self.mtime_ns}"


def snapshot_key(file_name: str) -> str:
    """The snapshot (partition) key for a dump file name, e.g. ``hf-trending-2026-11-26``."""
    stem = Path(file_name).name
    stem = stem.rsplit(".", 1)[0] if "." in stem.lstrip(".") else stem
    key = _UNSAFE.sub("-", stem).strip(".-_")
    key = re.sub(r"\.{2,}", ".", key)[:MAX_KEY_CHARS].strip(".-_")
    return key or "snapshot"


def observed_on(key: str) -> date | None:
    """The date written in a snapshot key (``…2026-11-26`` or ``…20261126``), if any."""
    for match in _DATE_IN_NAME.finditer(key):
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            continue
    return None


def scan_landing(home: Home) -> list[LandedFile]:
    """Files waiting in the landing folder, oldest first.

    Hidden and temporary files and folders are skipped. Symbolic links are listed (never
    followed) so that ingesting them rejects them visibly.
    """
    if not home.landing.is_dir():
        return []
    found = []
    for path in home.landing.iterdir():
        if path.name.startswith(".") or path.name.endswith((".tmp", ".part", ".crdownload")):
            continue
        if not path.is_symlink() and not path.is_file():
            continue
        stat = path.lstat()
        found.append(LandedFile(path, snapshot_key(path.name), stat.st_size, stat.st_mtime_ns))
    return sorted(found, key=lambda f: (f.mtime_ns, f.name))


def read_landed(path: Path, max_bytes: int) -> bytes:
    """The bytes of a landed file, refusing symbolic links and files over ``max_bytes``."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as error:
        if path.is_symlink():
            raise ParseError(
                "is a symbolic link; links in the landing folder are not followed"
            ) from None
        raise ParseError(f"cannot be read: {error.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > max_bytes:
            raise ParseError(f"file is {size:,} bytes, over the {max_bytes:,}-byte limit")
        return handle.read()


def land(home: Home, source: Path) -> Path:
    """Copy ``source`` into the landing folder under a safe name; returns the landed path."""
    home.landing.mkdir(parents=True, exist_ok=True)
    name = _safe_file_name(source.name)
    target = home.landing / name
    write_atomic(target, source.read_bytes())
    return target


def quarantine(home: Home, path: Path, reason: str) -> Path:
    """Move a rejected file into the quarantine folder beside a sidecar saying why."""
    home.quarantine.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = home.quarantine / f"{stamp}-{_safe_file_name(path.name)}"
    shutil.move(str(path), target)
    sidecar = {
        "file": path.name,
        "quarantined_as": target.name,
        "reason": reason,
        "quarantined_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    write_atomic(
        target.with_name(target.name + ".reason.json"), json.dumps(sidecar, indent=2).encode()
    )
    return target


def safe_suffix(name: str) -> str:
    """The file name's extension with anything unusual removed (``.txt``), or ``""``."""
    _, dot, suffix = Path(name).name.rpartition(".")
    cleaned = _UNSAFE.sub("", suffix)[:16] if dot else ""
    return f".{cleaned}" if cleaned else ""


def _safe_file_name(name: str) -> str:
    """``snapshot_key(name)`` plus the sanitised extension, e.g. ``my-dump-1.txt``."""
    return snapshot_key(name) + safe_suffix(name)
