"""Named locks that every process sharing a warehouse respects, wherever it runs.

The lock lives with the warehouse's catalog: beside an embedded SQLite catalog it is an ``flock``
on a file (``catalog.sqlite.<name>.lock``), for a PostgreSQL catalog a session advisory lock in
that database, so writers on several machines wait for each other too (one lock per name per
database: two warehouses sharing a database take turns). Either is released by the operating
system or the database when its holder dies: a killed run never leaves a lock behind. A lock is
re-entrant within a thread and exclusive between threads and processes; a waiter gets it as
soon as the holder lets go (within 50 ms for PostgreSQL, which is polled).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from pipeline.lake import LakeLocation

log = logging.getLogger("paperlake")
# How often a waiter asks PostgreSQL for an advisory lock.
ADVISORY_POLL_SECONDS = 0.05
_THREAD_LOCKS: dict[tuple[str, str], threading.RLock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()
# How deeply the thread that holds a key's thread lock has entered it (only that thread writes).
_DEPTH: dict[tuple[str, str], int] = {}


@contextmanager
def exclusive(location: LakeLocation, name: str) -> Iterator[None]:
    """Hold the warehouse's lock ``name`` while the block runs (waiting for it if another
    process or thread holds it)."""
    key = (location.metadata, name)
    with _thread_lock(key):
        depth = _DEPTH.get(key, 0)
        _DEPTH[key] = depth + 1
        try:
            if depth:  # this thread holds it already
                yield
            else:
                with _process_lock(location, name):
                    yield
        finally:
            _DEPTH[key] = depth


def _thread_lock(key: tuple[str, str]) -> threading.RLock:
    with _THREAD_LOCKS_GUARD:
        return _THREAD_LOCKS.setdefault(key, threading.RLock())


def _process_lock(location: LakeLocation, name: str) -> AbstractContextManager[None]:
    if location.sqlite_file is not None:
        return _file_lock(f"{location.sqlite_file}.{name}.lock", name)
    return _advisory_lock(location.metadata.split(":", 1)[1], name)


@contextmanager
def _file_lock(path: str, name: str) -> Iterator[None]:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(lambda: _try_flock(fd), lambda: fcntl.flock(fd, fcntl.LOCK_EX), name, path)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


@contextmanager
def _advisory_lock(dsn: str, name: str) -> Iterator[None]:
    import psycopg2  # installed with the distributed extras, which a PostgreSQL catalog needs

    key = int.from_bytes(
        hashlib.sha256(f"paperlake:{name}".encode()).digest()[:8], "big", signed=True
    )
    connection = psycopg2.connect(dsn)
    try:
        connection.autocommit = True
        cursor = connection.cursor()

        def try_lock() -> bool:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            return bool(cursor.fetchone()[0])

        def wait() -> None:
            # polled rather than a blocking pg_advisory_lock, which a signal stopping the run
            # could not interrupt
            while not try_lock():
                time.sleep(ADVISORY_POLL_SECONDS)

        _acquire(try_lock, wait, name, "PostgreSQL catalog")
        yield
    finally:
        connection.close()  # ending the session releases the lock


def _try_flock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _acquire(
    try_lock: Callable[[], bool], lock: Callable[[], object], name: str, where: str
) -> None:
    """Take the lock, saying so when that means waiting for another holder."""
    if try_lock():
        return
    log.info(
        "waiting for the warehouse's %s lock (%s): another run or command holds it", name, where
    )
    start = time.monotonic()
    lock()
    log.info("got the warehouse's %s lock after %.1f s", name, time.monotonic() - start)
