"""A run that starts while another is in progress gives DuckDB its share of the cores only."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest
from dagster._core.utils import make_new_run_id

from pipeline import warehouse
from pipeline.batches import cpu_cores
from pipeline.duckdb_limits import THREADS_ENV
from tests.conftest import materialize_snapshot


@pytest.fixture
def fresh_connections(monkeypatch):
    """The run's warehouse databases stay open in this process: start and end without any."""
    monkeypatch.delenv(THREADS_ENV, raising=False)
    warehouse.close_databases()
    yield
    warehouse.close_databases()


def _run_threads(home) -> int:
    with warehouse.session(home, read_only=True, search=False) as con:
        return con.execute("SELECT current_setting('threads')").fetchone()[0]


def _messages(instance, run_id: str) -> list[str]:
    return [e.user_message for e in instance.all_logs(run_id)]


def test_a_run_alone_gives_duckdb_every_core(instance, home, sample_bytes, fresh_connections):
    result = materialize_snapshot(instance, home, "hf-trending-2026-11-26", sample_bytes)
    with duckdb.connect() as default:
        every_core = default.execute("SELECT current_setting('threads')").fetchone()[0]
    assert _run_threads(home) == every_core
    assert not any("runs in progress" in m for m in _messages(instance, result.run_id))


def test_a_run_beside_another_gives_duckdb_its_share(
    instance, home, sample_bytes, fresh_connections
):
    other = dg.DagsterRun(
        job_name="snapshot_job", run_id=make_new_run_id(), status=dg.DagsterRunStatus.STARTED
    )
    instance.add_run(other)
    result = materialize_snapshot(instance, home, "hf-trending-2026-11-26", sample_bytes)
    share = max(1, cpu_cores() // 2)
    assert _run_threads(home) == share
    said = f"2 runs in progress on {cpu_cores()} cores: this run's DuckDB uses {share} thread(s)"
    assert said in _messages(instance, result.run_id)
