"""How much of the machine a DuckDB connection of paperlake may use: memory and threads.

Memory: DuckDB's own default is 80% of the machine's memory for each connection. Building the
search index of a 1,000,000-paper snapshot then held 10.9 GB; capped at 2 GB it spilled and the
process peaked at 4.4 GB. Every connection paperlake opens (warehouse sessions, search segment
builds) is capped at ``PAPERLAKE_DUCKDB_MEMORY`` (DuckDB's notation: ``4GB``, ``512MB``;
default 4GB), so a large snapshot costs disk I/O rather than the machine's memory. Daily
snapshots stay far below the cap.

Threads: DuckDB's default is one thread per core in every process. Two processes that each run
one on every core take turns on the cores at every step of every query: two backfill runs at a
time on 2 cores took 152 s for 20 snapshots with DuckDB's default (median of three) and 119 and
123 s with one thread each. A process may be given its share of the cores
(``threads``, e.g. a Dagster run with other runs in progress); ``PAPERLAKE_DUCKDB_THREADS``
sets the number for every connection and wins over any share.
"""

from __future__ import annotations

import os
import re

MEMORY_ENV = "PAPERLAKE_DUCKDB_MEMORY"
THREADS_ENV = "PAPERLAKE_DUCKDB_THREADS"
DEFAULT_MEMORY = "4GB"
_SIZE = re.compile(r"\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*", re.IGNORECASE)


def duckdb_config(threads: int | None = None) -> dict[str, str | int]:
    """The memory and thread settings of a paperlake DuckDB connection: ``threads`` is the
    process's share of the cores (None: every core), ``PAPERLAKE_DUCKDB_THREADS`` overrides it."""
    config: dict[str, str | int] = {"memory_limit": _memory_limit()}
    threads = _configured_threads() or threads
    if threads is not None:
        config["threads"] = threads
    return config


def cores_share(processes: int, cores: int) -> int | None:
    """The threads each of ``processes`` processes sharing ``cores`` gets (at least one); None
    for a process that has the cores to itself (every core, DuckDB's default)."""
    return max(1, cores // processes) if processes > 1 else None


def _memory_limit() -> str:
    value = os.environ.get(MEMORY_ENV, "").strip() or DEFAULT_MEMORY
    if not _SIZE.fullmatch(value):
        raise ValueError(
            f"{MEMORY_ENV}={value!r} is not a memory size; write it as DuckDB does, "
            f"e.g. {MEMORY_ENV}=4GB or {MEMORY_ENV}=512MB"
        )
    return value


def _configured_threads() -> int | None:
    value = os.environ.get(THREADS_ENV, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(
            f"{THREADS_ENV}={value!r} is not a number of threads; write a whole number of at "
            f"least 1, e.g. {THREADS_ENV}=1, or unset it to use every core"
        )
    return int(value)
