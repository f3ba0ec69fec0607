"""Readers while a run writes, and two runs at once."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline import warehouse
from pipeline.home import REPO_ROOT, Home
from tests.conftest import listing, sample_papers
from tests.state import check_invariants

pytestmark = pytest.mark.slow
PAPERLAKE = str(Path(sys.executable).with_name("paperlake"))
# Per snapshot: does the number of listed papers match the snapshot's own count?
CONSISTENCY = """
SELECT s.snapshot_id, s.n_papers, (SELECT count(*) FROM listings l WHERE l.snapshot_id = s.snapshot_id)
FROM snapshots s
"""


def _env(home: Home) -> dict[str, str]:
    env = {**os.environ, "PAPERLAKE_HOME": str(home.root)}
    env.pop("DAGSTER_HOME", None)
    return env


def _dumps(tmp_path: Path) -> list[Path]:
    papers = sample_papers()
    paths = []
    for i, day in enumerate(("2026-11-24", "2026-11-25", "2026-11-26")):
        path = tmp_path / f"hf-trending-{day}.txt"
        path.write_bytes(listing(papers[i * 40 : i * 40 + 150]))
        paths.append(path)
    return paths


def test_readers_see_whole_snapshots_while_a_run_writes(tmp_path):
    home = Home(tmp_path / "home")
    first, *later = _dumps(tmp_path)
    assert (
        subprocess.run(
            [PAPERLAKE, "ingest", str(first)], env=_env(home), capture_output=True
        ).returncode
        == 0
    )

    shell = subprocess.Popen(
        [PAPERLAKE, "sql"],
        env=_env(home),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    writer = subprocess.Popen(
        [PAPERLAKE, "ingest", *map(str, later)],
        env=_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    queries, errors, states = 0, [], set()
    while writer.poll() is None:
        try:
            with warehouse.session(home, read_only=True) as con:
                for snapshot_id, n_papers, listed in con.execute(CONSISTENCY).fetchall():
                    assert n_papers == listed, (
                        f"{snapshot_id}: {listed} of {n_papers} papers visible"
                    )
                    states.add(snapshot_id)
            queries += 1
        except AssertionError:
            raise
        except Exception as error:  # a reader must never fail while a run writes
            errors.append(repr(error))
        shell.stdin.write("SELECT count(*) AS n FROM snapshots;\n")
        shell.stdin.flush()
        time.sleep(0.2)
    assert writer.returncode == 0, writer.stderr.read()
    out, err = shell.communicate(".quit\n", timeout=60)
    assert shell.returncode == 0 and "error" not in err.lower(), err
    shell_answers = out.count("┌")  # one box per answered query
    report = {
        "reader_queries": queries,
        "reader_errors": len(errors),
        "shell_queries": shell_answers,
    }
    (REPO_ROOT / "test-artifacts").mkdir(exist_ok=True)
    (REPO_ROOT / "test-artifacts" / "concurrent-readers.json").write_text(json.dumps(report))
    assert errors == [], errors[:3]
    assert queries > 20 and shell_answers > 20, report
    assert states == {"hf-trending-2026-11-24", "hf-trending-2026-11-25", "hf-trending-2026-11-26"}


def test_two_runs_for_different_snapshots_at_once(tmp_path):
    home = Home(tmp_path / "home")
    first, second, _ = _dumps(tmp_path)
    runs = [
        subprocess.Popen(
            [PAPERLAKE, "ingest", str(dump)],
            env=_env(home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for dump in (first, second)
    ]
    results = [run.communicate(timeout=300) for run in runs]
    for run, (_, err) in zip(runs, results, strict=True):
        assert run.returncode == 0, err
        assert "locked" not in err.lower()
    check_invariants(home)
    with warehouse.session(home, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM snapshots").fetchone()[0] == 2
