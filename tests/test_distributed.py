"""The distributed profile on real services over loopback.

Dagster's instance in PostgreSQL, a backfill of snapshot partitions launched by the daemon, every
step on one of two real Celery workers (RabbitMQ broker), the warehouse catalog in PostgreSQL,
its data files and every step's shared state (landing, artifacts, reports, search index) on an
S3 server (moto, in server mode); each worker has a local home of its own, as on another machine,
and nothing shared may land in it. One worker is killed in the middle of the backfill; every run must still succeed, and the warehouse must equal what the embedded default
builds from the same dumps (all tables but the related-papers index, whose weights depend on
the order runs reach the warehouse: for it, the same papers must be indexed).

Skips, naming what is missing, where the services are not reachable; with
``PAPERLAKE_REQUIRE_SERVICES=1`` (set by CI, where they run) a missing service fails instead.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from benchmarks.cluster import Cluster, missing_for_cluster, wait_until
from pipeline.home import REPO_ROOT, Home
from tests.state import fingerprint, table_rows

MISSING = missing_for_cluster()
if MISSING and os.environ.get("PAPERLAKE_REQUIRE_SERVICES") == "1":
    raise RuntimeError("the distributed tests need: " + "; ".join(MISSING))
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(MISSING), reason="not available here: " + "; ".join(MISSING)),
]
PARTITIONS = 6
# The related-papers index weighs a paper's terms by the corpus at the moment it is first
# indexed (that is what makes a daily snapshot cheap), so its scores depend on the order in which
# a backfill's runs reach the warehouse; the test checks that the same papers are indexed.
RELATED_INDEX = frozenset({"related_papers", "paper_terms", "term_stats", "indexed_papers"})
# Reports describe the history known when they were rendered: during a backfill a day's digest
# may be rendered before the day before it is loaded, so reports are left out of the comparison.
REPORTS = frozenset(
    {
        "snapshot_report_html",
        "snapshot_report_md",
        "trend_report_html",
        "trend_report_md",
        "digest_feed",
        "digest_mail",
    }
)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    with Cluster(tmp_path / "cluster") as nodes:
        yield nodes


def _dumps(folder: Path) -> list[Path]:
    from benchmarks.corpus import write_series

    return write_series(folder, PARTITIONS, 40, seed=21, start=date(2026, 10, 1))


def _warehouse_env(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in cluster.warehouse_env().items():
        monkeypatch.setenv(key, value)


def _row_differences(
    cluster: Cluster, embedded: Home, tables: list[str], monkeypatch: pytest.MonkeyPatch
) -> str:
    """A few rows each side has and the other has not, per differing table."""
    from pipeline import warehouse

    with warehouse.session(embedded, read_only=True) as con:
        ours = {t: set(map(repr, table_rows(con, t, REPORTS))) for t in tables}
    _warehouse_env(cluster, monkeypatch)
    with warehouse.session(cluster.home, read_only=True) as con:
        theirs = {t: set(map(repr, table_rows(con, t, REPORTS))) for t in tables}
    return "\n".join(
        f"{t}: only distributed {sorted(theirs[t] - ours[t])[:3]}; "
        f"only embedded {sorted(ours[t] - theirs[t])[:3]}"
        for t in tables
    )


def test_backfill_on_celery_workers_survives_a_killed_worker(
    cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dumps = _dumps(tmp_path / "dumps")
    workers = cluster.start_workers(2)
    keys = cluster.prepare_backfill(dumps)
    killed: dict[str, set[str]] = {}

    def kill_first_worker_mid_step() -> None:
        """SIGKILL worker 1 while it executes a step (its second or later)."""

        def busy() -> set[str] | None:
            received, done = _tasks(cluster.log(workers[0]))
            running = received - done
            return running if len(received) >= 2 and running else None

        killed["running"] = wait_until(busy, 300, "worker 1 to be in the middle of a step", 0.1)
        cluster.kill(workers[0])

    seconds = cluster.backfill(keys, during=kill_first_worker_mid_step)
    taken_over, _ = _tasks(cluster.log(workers[1]))
    # The step the killed worker was running was redelivered to the other worker and done there
    # (a step that had just finished as the kill came is done already: then nothing is pending).
    received, done = _tasks(cluster.log(workers[0]))
    unfinished = received - done
    assert unfinished <= taken_over, f"steps lost with worker 1: {unfinished - taken_over}"

    for worker in workers:
        local = _shared_state_in(cluster.worker_home(worker))
        assert local == [], f"{worker} wrote shared state to its local home: {local[:5]}"
    _warehouse_env(cluster, monkeypatch)
    distributed = fingerprint(cluster.home, REPORTS)
    searchable = _searchable(cluster.home)

    # The same dumps through the embedded default, in another home.
    for key in list(os.environ):
        if key.startswith(("PAPERLAKE_", "AWS_")) or key == "DAGSTER_HOME":
            monkeypatch.delenv(key)
    embedded_home = Home(tmp_path / "embedded").ensure()
    monkeypatch.setenv("PAPERLAKE_HOME", str(embedded_home.root))
    from assets.runs import ingest_files

    outcomes = ingest_files(dumps, embedded_home)
    assert all(o.ok for o in outcomes), [o.message for o in outcomes]
    embedded = fingerprint(embedded_home, REPORTS)
    assert searchable == _searchable(embedded_home)

    report = {
        "partitions": PARTITIONS,
        "backfill_seconds": round(seconds, 1),
        "steps_running_on_killed_worker": sorted(killed["running"]),
        "steps_redelivered_to_other_worker": sorted(unfinished & taken_over),
        "tables_equal": {
            t: distributed["tables"][t] == embedded["tables"][t] for t in embedded["tables"]
        },
        "artifacts_equal": distributed["artifacts"] == embedded["artifacts"],
        "artifacts_compared": len(embedded["artifacts"]),
    }
    artifacts = REPO_ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "distributed-backfill.json").write_text(json.dumps(report, indent=2))
    differing = [
        t
        for t in embedded["tables"]
        if t not in RELATED_INDEX and distributed["tables"][t] != embedded["tables"][t]
    ]
    assert not differing, _row_differences(cluster, embedded_home, differing, monkeypatch)
    assert distributed["artifacts"] == embedded["artifacts"]
    indexed_embedded = _indexed(embedded_home)
    _warehouse_env(cluster, monkeypatch)
    assert _indexed(cluster.home) == indexed_embedded


def _shared_state_in(home_root: Path) -> list[Path]:
    folders = ("landing", "quarantine", "artifacts", "reports", "warehouse")
    return [p for f in folders for p in (home_root / f).rglob("*") if p.is_file()]


def _searchable(home: Home) -> int:
    """How many papers ``home``'s full-text index holds (settings from the environment)."""
    from pipeline import search

    return sum(segment.papers for segment in search.segment_files(home).live())


def _tasks(log: str) -> tuple[set[str], set[str]]:
    """Ids of the Celery tasks (Dagster steps) a worker's log shows received and succeeded."""
    received = set(re.findall(r"Task execute_plan\[([0-9a-f-]+)\] received", log))
    succeeded = set(re.findall(r"Task execute_plan\[([0-9a-f-]+)\] succeeded", log))
    return received, succeeded


def _indexed(home: Home) -> set[str]:
    """The papers in ``home``'s related-papers index (warehouse settings from the environment)."""
    from pipeline import warehouse

    with warehouse.session(home, read_only=True) as con:
        rows = con.execute("SELECT paper_id FROM indexed_papers").fetchall()
    assert rows, "the related-papers index is empty"
    return {paper_id for (paper_id,) in rows}
