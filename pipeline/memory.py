"""How much memory a DuckDB connection of paperlake may hold before it spills to disk.

DuckDB's own default is 80% of the machine's memory for each connection. Building the search
index of a 1,000,000-paper snapshot then held 10.9 GB; capped at 2 GB it spilled and the
process peaked at 4.4 GB. Every connection paperlake opens (warehouse sessions, search segment
builds) is capped at ``PAPERLAKE_DUCKDB_MEMORY`` (DuckDB's notation: ``4GB``, ``512MB``;
default 4GB), so a large snapshot costs disk I/O rather than the machine's memory. Daily
snapshots stay far below the cap.
"""

from __future__ import annotations

import os
import re

MEMORY_ENV = "PAPERLAKE_DUCKDB_MEMORY"
DEFAULT_MEMORY = "4GB"
_SIZE = re.compile(r"\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*", re.IGNORECASE)


def duckdb_memory_limit() -> str:
    """The ``memory_limit`` setting for paperlake's DuckDB connections."""
    value = os.environ.get(MEMORY_ENV, "").strip() or DEFAULT_MEMORY
    if not _SIZE.fullmatch(value):
        raise ValueError(
            f"{MEMORY_ENV}={value!r} is not a memory size; write it as DuckDB does, "
            f"e.g. {MEMORY_ENV}=4GB or {MEMORY_ENV}=512MB"
        )
    return value
