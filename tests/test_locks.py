"""The warehouse's named locks: exclusive across processes, handed over at once, never left
behind by a killed holder; writer sessions hold the writer lock, readers never wait for it."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from benchmarks.cluster import reachable
from pipeline import locks, warehouse
from pipeline.home import REPO_ROOT, Home
from pipeline.lake import LakeLocation, lake_location
from tests.conftest import listing, materialize_snapshot, sample_papers

POSTGRES = "postgres:dbname=postgres host=127.0.0.1 user=postgres"


def _hold(
    location: LakeLocation, name: str, tmp_path: Path, seconds: float, until: Path | None = None
) -> subprocess.Popen:
    """Another process that takes the lock, says so in a file, holds it for ``seconds`` (or,
    with ``until``, until that file exists, ``seconds`` at most) and writes ``<file>.done``
    just before letting go."""
    ready = tmp_path / f"holding-{name}"
    release = str(until) if until else ""
    code = textwrap.dedent(
        f"""
        import os, time
        from pipeline import locks
        from pipeline.lake import LakeLocation
        with locks.exclusive(LakeLocation({location.metadata!r}, {location.data_path!r}, {{}}),
                             {name!r}):
            open({str(ready)!r}, "w").close()
            deadline = time.monotonic() + {seconds}
            while time.monotonic() < deadline and not ({release!r} and os.path.exists({release!r})):
                time.sleep(0.01)
            open({str(ready)!r} + ".done", "w").close()
        """
    )
    holder = subprocess.Popen([sys.executable, "-c", code], cwd=REPO_ROOT, start_new_session=True)
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert holder.poll() is None, "the holder process failed"
        assert time.monotonic() < deadline, "the holder never took the lock"
        time.sleep(0.01)
    return holder


def _done(tmp_path: Path, name: str) -> bool:
    return (tmp_path / f"holding-{name}.done").exists()


def _sqlite_location(tmp_path: Path) -> LakeLocation:
    return LakeLocation(f"sqlite:{tmp_path / 'catalog.sqlite'}", str(tmp_path / "data") + "/", {})


def _waits_for(location: LakeLocation, name: str, tmp_path: Path, caplog) -> None:
    holder = _hold(location, name, tmp_path, 1.5)
    start = time.monotonic()
    with caplog.at_level(logging.INFO, logger="paperlake"), locks.exclusive(location, name):
        waited = time.monotonic() - start
        released = _done(tmp_path, name)
    assert released, "the lock was taken while another process held it"
    assert holder.wait(timeout=30) == 0
    assert 0.8 < waited < 3.0, f"waited {waited:.2f} s for a lock held 1.5 s"
    assert f"waiting for the warehouse's {name} lock" in caplog.text
    assert f"got the warehouse's {name} lock after" in caplog.text


def test_a_file_lock_makes_another_process_wait_until_it_is_released(tmp_path, caplog):
    _waits_for(_sqlite_location(tmp_path), "writer", tmp_path, caplog)


def test_locks_of_different_names_do_not_wait_for_each_other(tmp_path):
    location = _sqlite_location(tmp_path)
    holder = _hold(location, "mail", tmp_path, 30)
    try:
        start = time.monotonic()
        with locks.exclusive(location, "writer"):
            assert time.monotonic() - start < 0.5
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait()


def test_a_killed_holder_leaves_no_lock_behind(tmp_path):
    location = _sqlite_location(tmp_path)
    holder = _hold(location, "writer", tmp_path, 300)
    os.killpg(holder.pid, signal.SIGKILL)
    holder.wait()
    start = time.monotonic()
    with locks.exclusive(location, "writer"):
        assert time.monotonic() - start < 0.5


def test_re_entrant_in_a_thread_exclusive_between_threads(tmp_path):
    location = _sqlite_location(tmp_path)
    inside, overlaps = [], []

    def work() -> None:
        for _ in range(20):
            with locks.exclusive(location, "writer"), locks.exclusive(location, "writer"):
                inside.append(1)
                if len(inside) > 1:
                    overlaps.append(len(inside))
                time.sleep(0.001)
                inside.pop()

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not overlaps


@pytest.mark.skipif(
    not reachable(5432) and os.environ.get("PAPERLAKE_REQUIRE_SERVICES") != "1",
    reason="no PostgreSQL on 127.0.0.1:5432",
)
def test_a_postgresql_catalog_s_lock_makes_another_process_wait(tmp_path, caplog):
    _waits_for(LakeLocation(POSTGRES, "s3://unused/", {}), "writer", tmp_path, caplog)


def test_writer_sessions_wait_for_the_writer_lock_readers_do_not(home: Home, tmp_path):
    with warehouse.session(home) as con:  # creates the warehouse
        con.execute("CREATE TABLE counter AS SELECT 0 AS n")
    holder = _hold(lake_location(home), warehouse.WRITER_LOCK, tmp_path, 1.5)
    start = time.monotonic()
    with warehouse.session(home, read_only=True) as con:
        assert con.execute("SELECT n FROM counter").fetchone() == (0,)
    assert time.monotonic() - start < 1.0, "a reader waited for the writer lock"
    with warehouse.session(home) as con:
        assert _done(tmp_path, warehouse.WRITER_LOCK), "a writer opened while another one wrote"
        con.execute("UPDATE counter SET n = n + 1")
    assert holder.wait(timeout=30) == 0


INCREMENTS = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from pipeline import warehouse
    from pipeline.home import Home
    for _ in range(5):
        with warehouse.session(Home(Path(sys.argv[1]))) as con:
            n = con.execute("SELECT n FROM counter").fetchone()[0]
            time.sleep(0.05)
            con.execute("UPDATE counter SET n = ?", [n + 1])
    """
)


def test_concurrent_writer_sessions_lose_no_update(home: Home):
    """Each process reads, then writes what it read plus one: without the writer lock two
    writers would read the same value and one increment would be lost."""
    with warehouse.session(home) as con:
        con.execute("CREATE TABLE counter AS SELECT 0 AS n")
    writers = [
        subprocess.Popen([sys.executable, "-c", INCREMENTS, str(home.root)], cwd=REPO_ROOT)
        for _ in range(2)
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    with warehouse.session(home, read_only=True) as con:
        assert con.execute("SELECT n FROM counter").fetchone() == (10,)


def test_a_run_that_waits_for_the_writer_says_so_in_its_log(home: Home, instance, tmp_path):
    """The Dagster instance manages the ``paperlake`` logger, so a step that waits for another
    writer shows it in the run's log (the UI), with how long it waited."""
    data = listing(sample_papers()[:40])
    first = materialize_snapshot(instance, home, "day1", data)
    # held until the run says it waits, however long its earlier steps take on a busy machine
    release = tmp_path / "release"
    holder = _hold(lake_location(home), warehouse.WRITER_LOCK, tmp_path, 120, until=release)
    outcome = {}
    day2 = listing(sample_papers()[20:60])

    def second_run() -> None:
        try:
            outcome["result"] = materialize_snapshot(instance, home, "day2", day2)
        except Exception as error:  # reported by the assertion below, not lost in the thread
            outcome["error"] = error

    run = threading.Thread(target=second_run)
    run.start()

    def lock_messages(run_id: str) -> list[str]:
        return [
            event.message
            for event in instance.all_logs(run_id)
            if event.message and "warehouse's writer lock" in event.message
        ]

    def waiting() -> bool:
        latest = instance.get_runs(limit=1)
        return (
            bool(latest)
            and latest[0].run_id != first.run_id
            and any(m.startswith("waiting for") for m in lock_messages(latest[0].run_id))
        )

    deadline = time.monotonic() + 120
    while run.is_alive() and time.monotonic() < deadline and not waiting():
        time.sleep(0.05)
    release.touch()
    run.join(timeout=120)
    assert "result" in outcome, outcome.get("error")
    assert holder.wait(timeout=30) == 0
    messages = lock_messages(outcome["result"].run_id)
    assert any(m.startswith("waiting for the warehouse's writer lock") for m in messages)
    assert any(m.startswith("got the warehouse's writer lock after") for m in messages)


TAKE_OUT_OF_WAL = textwrap.dedent(
    """
    import sqlite3, sys
    catalog = sqlite3.connect(sys.argv[1], timeout=0)
    try:
        print(catalog.execute("PRAGMA journal_mode=DELETE").fetchone()[0])
    except sqlite3.OperationalError as error:
        print(error)
    """
)


def test_opening_a_reader_leaves_the_catalog_locked_by_this_process(home: Home):
    """The catalog is a SQLite file in WAL mode that DuckDB's SQLite holds open with POSIX locks.
    Had a reader opened in the same process probed the file with another SQLite library (Python's
    sqlite3), closing that probe would have released the process's locks, and another process
    could then take the catalog out of WAL mode under the open connections (or reset the WAL
    index they map: a bus error in the writer)."""
    with warehouse.session(home) as con:
        con.execute("CREATE TABLE counter AS SELECT 0 AS n")
    writer = warehouse.connect(home)
    try:
        assert writer.execute("SELECT n FROM counter").fetchone() == (0,)
        with warehouse.session(home, read_only=True) as con:
            assert con.execute("SELECT n FROM counter").fetchone() == (0,)
        other = subprocess.run(
            [sys.executable, "-c", TAKE_OUT_OF_WAL, str(home.catalog)],
            capture_output=True,
            text=True,
            check=True,
        )
        assert other.stdout.strip() == "database is locked"
        writer.execute("UPDATE counter SET n = 1")
    finally:
        writer.close()
