"""Accepting a landed dump: check it parses, archive it immutably, or quarantine it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import PurePosixPath

from pipeline.artifacts import ArtifactStore, ArtifactVersion
from pipeline.batches import BATCH_BYTES, parse_dump_batches
from pipeline.formats import CODE_VERSION, ParseError
from pipeline.formats.text import MAX_DUMP_BYTES
from pipeline.home import LANDING, Home
from pipeline.landing import (
    is_landed,
    observed_on,
    quarantine,
    read_landed,
    remove_landed,
    safe_suffix,
    scan_landing,
)

RAW_ARTIFACT = "raw_listing"


def find_landed(home: Home, key: str, file_name: str | None = None) -> str | None:
    """The name of the landing file for snapshot ``key``: ``file_name`` if given, else the
    oldest match.

    Only the base name of ``file_name`` is used, so it can never point outside the landing folder.
    """
    if file_name:
        name = PurePosixPath(file_name).name
        return name if name and is_landed(home, name) else None
    matches = [landed.name for landed in scan_landing(home) if landed.key == key]
    return matches[0] if matches else None


def archive_snapshot(
    home: Home, store: ArtifactStore, key: str, file_name: str | None = None
) -> ArtifactVersion:
    """Archive the landed dump of snapshot ``key`` and return its raw version.

    The dump must parse; if it does not, it is moved to quarantine with the reason and the
    ``ParseError`` propagates. An accepted dump leaves the landing folder. With nothing landed
    for ``key``, the archived current version is returned (re-materialization).
    """
    name = find_landed(home, key, file_name)
    if name is None:
        current = store.current(RAW_ARTIFACT, key)
        if current is None:
            raise LookupError(
                f"no dump for snapshot {key!r}: drop a file named like {key}.txt into "
                f"{home.shared.url(LANDING)} or run `paperlake ingest FILE`"
            )
        return current
    try:
        data = read_landed(home, name, MAX_DUMP_BYTES)
        # A large dump is checked on its first batch here; the papers step parses all of it.
        parsed, _ = parse_dump_batches(data, name)
    except ParseError as error:
        quarantine(home, name, error.problem)
        raise error.for_file(name) from None
    day = observed_on(key) or datetime.now(UTC).date()
    version = store.put(
        RAW_ARTIFACT,
        key,
        data,
        suffix=safe_suffix(name) or ".txt",
        code_version=CODE_VERSION,
        rows=parsed.papers.num_rows if len(data) <= BATCH_BYTES else None,
        extra={
            "source_name": name,
            "format": parsed.format,
            "encoding": parsed.encoding,
            "observed_on": day.isoformat(),
        },
    )
    remove_landed(home, name)
    return version
