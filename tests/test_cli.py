"""`paperlake ingest` and `paperlake sql`, end to end, as separate processes."""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from pipeline.home import REPO_ROOT, SAMPLE_DUMP

pytestmark = pytest.mark.slow
PAPERLAKE = str(Path(sys.executable).with_name("paperlake"))


def _run(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PAPERLAKE_HOME": str(home)}
    env.pop("DAGSTER_HOME", None)
    return subprocess.run(
        [PAPERLAKE, *args], env=env, capture_output=True, text=True, timeout=300, cwd=REPO_ROOT
    )


def test_ingest_then_query(tmp_path, monkeypatch):
    home = tmp_path / "home"
    image = tmp_path / "screenshot.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))

    ingest = _run(home, "ingest", str(SAMPLE_DUMP), str(image))

    assert ingest.returncode == 1, ingest.stderr
    assert "snapshot hf-trending-2026-11-26, 248 papers" in ingest.stdout
    rejected = [line for line in ingest.stderr.splitlines() if line.startswith("rejected")]
    assert rejected == [f"rejected {image}: binary file (a PNG image), not a text dump"]

    as_json = _run(
        home,
        "sql",
        "--format",
        "json",
        "SELECT rank, title FROM latest_papers ORDER BY rank LIMIT 2",
    )
    assert as_json.returncode == 0, as_json.stderr
    rows = json.loads(as_json.stdout)
    assert rows[0] == {
        "rank": 1,
        "title": "Codebook Features: Sparse and Discrete Interpretability for Neural Networks",
    }

    as_csv = _run(home, "sql", "--format", "csv", "SELECT snapshot_id, n_papers FROM snapshots")
    assert list(csv.DictReader(io.StringIO(as_csv.stdout))) == [
        {"snapshot_id": "hf-trending-2026-11-26", "n_papers": "248"}
    ]

    as_table = _run(home, "sql", "SELECT count(*) AS n FROM papers")
    assert "248" in as_table.stdout

    broken = _run(home, "sql", "SELECT * FROM no_such_table")
    assert broken.returncode != 0 and "no_such_table" in broken.stderr

    # the runs were recorded in this home's Dagster instance, where the UI reads them
    monkeypatch.setenv("PAPERLAKE_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(REPO_ROOT))
    with dg.DagsterInstance.get() as instance:
        runs = sorted((run.job_name, run.status.value) for run in instance.get_runs())
        assert runs == [
            ("snapshot_job", "FAILURE"),
            ("snapshot_job", "SUCCESS"),
            ("trends_job", "SUCCESS"),
        ]
        assert instance.get_dynamic_partitions("snapshots") == [
            "hf-trending-2026-11-26",
            "screenshot",
        ]


def test_interactive_shell_answers_queries(tmp_path):
    home = tmp_path / "home"
    assert _run(home, "ingest", str(SAMPLE_DUMP)).returncode == 0
    env = {**os.environ, "PAPERLAKE_HOME": str(home)}
    shell = subprocess.run(
        [PAPERLAKE, "sql"],
        input="SELECT count(*) AS n\nFROM listings;\n.tables\n.quit\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shell.returncode == 0, shell.stderr
    assert "248" in shell.stdout
    assert "latest_papers" in shell.stdout


def _partitions_and_runs(home: Path, monkeypatch) -> tuple[list[str], int]:
    monkeypatch.setenv("PAPERLAKE_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(REPO_ROOT))
    with dg.DagsterInstance.get() as instance:
        return instance.get_dynamic_partitions("snapshots"), len(instance.get_runs())


def test_two_homes_never_share_partitions_or_runs(tmp_path, monkeypatch):
    first, second = tmp_path / "one", tmp_path / "two"
    other = tmp_path / "other-2026-11-25.txt"
    other.write_bytes(b"\n".join(SAMPLE_DUMP.read_bytes().split(b"\n")[:10]))
    assert _run(first, "ingest", str(SAMPLE_DUMP)).returncode == 0
    assert _run(second, "ingest", str(other)).returncode == 0
    # each home: one snapshot_job run and one trends_job run
    assert _partitions_and_runs(first, monkeypatch) == (["hf-trending-2026-11-26"], 2)
    assert _partitions_and_runs(second, monkeypatch) == (["other-2026-11-25"], 2)
    count = "SELECT count(*) AS n FROM papers"
    assert json.loads(_run(second, "sql", "--format", "json", count).stdout) == [{"n": 4}]
