"""The landing folder: where dumps arrive, how they are named, and where bad ones go.

File names are untrusted. A snapshot key derived from a name contains only ``[A-Za-z0-9._-]``,
never starts with a dot, and is at most ``MAX_KEY_CHARS`` long, so it is safe both as a Dagster
partition key and as a folder name inside ``PAPERLAKE_HOME``.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from pipeline.formats.errors import ParseError
from pipeline.home import LANDING, QUARANTINE, Home
from pipeline.storage import STORAGE_ENV

MAX_KEY_CHARS = 100
INTERVAL_ENV = "PAPERLAKE_LANDING_INTERVAL"
# Seconds between looks at the landing area: a local folder is cheap to list; on object storage
# every look is a LIST request (one a minute is 1,440 a day).
LOCAL_INTERVAL = 15
OBJECT_STORAGE_INTERVAL = 60
MIN_INTERVAL = 5
_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class LandedFile:
    """A file waiting in the landing folder."""

    name: str
    key: str
    size: int
    mtime_ns: int

    @property
    def fingerprint(self) -> str:
        """Changes whenever the file is rewritten; used to request one run per arrival."""
        return f"{self.size}:{self.mtime_ns}"


def landing_interval(env: Mapping[str, str]) -> int:
    """Seconds between the landing sensor's looks: ``PAPERLAKE_LANDING_INTERVAL``, else 15 on a
    local folder and 60 on object storage (``PAPERLAKE_STORAGE``)."""
    configured = env.get(INTERVAL_ENV, "").strip()
    if not configured:
        on_object_storage = bool(env.get(STORAGE_ENV, "").strip())
        return OBJECT_STORAGE_INTERVAL if on_object_storage else LOCAL_INTERVAL
    if not configured.isdigit() or int(configured) < MIN_INTERVAL:
        raise ValueError(
            f"{INTERVAL_ENV}={configured!r}: give a whole number of seconds, at least "
            f"{MIN_INTERVAL} (e.g. {INTERVAL_ENV}=60)"
        )
    return int(configured)


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


def _skipped(name: str) -> bool:
    return name.startswith(".") or name.endswith((".tmp", ".part", ".crdownload"))


def scan_landing(home: Home) -> list[LandedFile]:
    """Files waiting in the landing folder, oldest first.

    Hidden and temporary files and folders are skipped. On a local disk, symbolic links are
    listed (never followed) so that ingesting them rejects them visibly.
    """
    area = home.shared.child(LANDING)
    found = []
    if area.is_local:
        folder = area.local_path()
        for path in folder.iterdir() if folder.is_dir() else ():
            if _skipped(path.name) or (not path.is_symlink() and not path.is_file()):
                continue
            stat = path.lstat()
            found.append(
                LandedFile(path.name, snapshot_key(path.name), stat.st_size, stat.st_mtime_ns)
            )
    else:
        for info in area.list():
            if _skipped(info.base_name):
                continue
            mtime_ns = int(info.mtime.timestamp() * 1e9) if info.mtime else 0
            found.append(
                LandedFile(info.base_name, snapshot_key(info.base_name), info.size or 0, mtime_ns)
            )
    return sorted(found, key=lambda f: (f.mtime_ns, f.name))


def is_landed(home: Home, name: str) -> bool:
    area = home.shared.child(LANDING)
    if area.is_local:
        path = area.local_path(name)
        return path.is_symlink() or path.is_file()
    return area.exists(name)


def read_landed(home: Home, name: str, max_bytes: int) -> bytes:
    """The bytes of a landed file, refusing symbolic links and files over ``max_bytes``."""
    area = home.shared.child(LANDING)
    if not area.is_local:
        size = area.size(name)
        if size > max_bytes:
            raise ParseError(f"file is {size:,} bytes, over the {max_bytes:,}-byte limit")
        return area.read(name)
    path = area.local_path(name)
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


def remove_landed(home: Home, name: str) -> None:
    home.shared.child(LANDING).delete(name)


def land(home: Home, source: Path) -> LandedFile:
    """Copy ``source`` into the landing folder under a safe name; returns the landed file."""
    name = _safe_file_name(source.name)
    data = source.read_bytes()
    home.shared.child(LANDING).write(name, data)
    return LandedFile(name, snapshot_key(name), len(data), time.time_ns())


def quarantine(home: Home, name: str, reason: str) -> str:
    """Move a rejected landed file into the quarantine folder beside a sidecar saying why;
    returns where it went."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = f"{stamp}-{_safe_file_name(name)}"
    home.shared.move(f"{LANDING}/{name}", f"{QUARANTINE}/{target}")
    sidecar = {
        "file": name,
        "quarantined_as": target,
        "reason": reason,
        "quarantined_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    home.shared.write(f"{QUARANTINE}/{target}.reason.json", json.dumps(sidecar, indent=2).encode())
    return home.shared.url(f"{QUARANTINE}/{target}")


def safe_suffix(name: str) -> str:
    """The file name's extension with anything unusual removed (``.txt``), or ``""``."""
    _, dot, suffix = Path(name).name.rpartition(".")
    cleaned = _UNSAFE.sub("", suffix)[:16] if dot else ""
    return f".{cleaned}" if cleaned else ""


def _safe_file_name(name: str) -> str:
    """``snapshot_key(name)`` plus the sanitised extension, e.g. ``my-dump-1.txt``."""
    return snapshot_key(name) + safe_suffix(name)
