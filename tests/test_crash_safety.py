"""SIGKILL during ingest and load, again and again: nothing partial is ever visible, and running
the snapshot again converges to exactly the state of a run that was never interrupted."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import dagster as dg
import pytest

from pipeline.home import REPO_ROOT, Home
from tests.conftest import listing, sample_papers
from tests.state import check_invariants, fingerprint

pytestmark = pytest.mark.slow
PAPERLAKE = str(Path(sys.executable).with_name("paperlake"))
KILLS = 20


def _start(home: Home, dump: Path) -> subprocess.Popen:
    env = {**os.environ, "PAPERLAKE_HOME": str(home.root)}
    env.pop("DAGSTER_HOME", None)
    return subprocess.Popen(
        [PAPERLAKE, "ingest", str(dump)],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _step_running_when_killed(home: Home, monkeypatch) -> str:
    """The last step the killed run had started, from the run's own event log."""
    monkeypatch.setenv("PAPERLAKE_HOME", str(home.root))
    monkeypatch.setenv("DAGSTER_HOME", str(REPO_ROOT))
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(limit=1)
        if not runs:
            return "before the first run"
        steps = [
            entry.dagster_event.step_key
            for entry in instance.all_logs(runs[0].run_id)
            if entry.dagster_event is not None
            and entry.dagster_event.event_type_value == "STEP_START"
        ]
        return f"{runs[0].job_name}:{steps[-1]}" if steps else f"{runs[0].job_name}:starting"


def test_killed_runs_leave_nothing_partial_and_rerunning_converges(tmp_path, monkeypatch):
    dump = tmp_path / "hf-trending-2026-11-26.txt"
    dump.write_bytes(listing(sample_papers()[:60]))

    baseline_home = Home(tmp_path / "baseline")
    started = time.monotonic()
    assert _start(baseline_home, dump).wait(timeout=300) == 0
    duration = time.monotonic() - started
    expected = fingerprint(baseline_home)

    home = Home(tmp_path / "crashed")
    rng = random.Random(20261126)
    kill_points: list[str] = []
    earliest, latest = 0.5, duration * 0.95
    for _ in range(2 * KILLS):
        if len(kill_points) == KILLS:
            break
        process = _start(home, dump)
        # one kill in each twentieth of the run's timeline, so every part of it is hit
        slot = len(kill_points)
        time.sleep(earliest + (slot + rng.random()) * (latest - earliest) / KILLS)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            kill_points.append(_step_running_when_killed(home, monkeypatch))
        else:
            # runs after a kill can be quicker than the first (work already done) or the
            # machine busier at first: aim the remaining kills earlier
            latest = earliest + (latest - earliest) * 0.9
        check_invariants(home)

    final = _start(home, dump)
    assert final.wait(timeout=300) == 0, (
        "a run after the kills completes (no lock outlives a killed run)"
    )
    assert fingerprint(home) == expected

    (REPO_ROOT / "test-artifacts").mkdir(exist_ok=True)
    report = {
        "kills": len(kill_points),
        "by_step": Counter(kill_points),
        "run_seconds": round(duration, 1),
    }
    (REPO_ROOT / "test-artifacts" / "crash-kills.json").write_text(json.dumps(report, indent=1))
    assert len(kill_points) >= KILLS * 0.8, report
    assert len(set(kill_points)) >= 5, f"kills spread over too few steps: {report}"
