"""`paperlake ingest` and `paperlake sql`, end to end, as separate processes."""

import csv
import io
import json
import os
import re
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


@pytest.fixture(scope="module")
def ingested(tmp_path_factory) -> tuple[Path, Path, subprocess.CompletedProcess]:
    """A home into which `paperlake ingest` took the sample and rejected an image."""
    folder = tmp_path_factory.mktemp("cli")
    home, image = folder / "home", folder / "screenshot.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    return home, image, _run(home, "ingest", str(SAMPLE_DUMP), str(image))


def _instance_view(home: Path, monkeypatch) -> tuple[list[str], list[tuple[str, str]]]:
    """Partitions and (job, status) of the runs in a home's Dagster instance."""
    monkeypatch.setenv("PAPERLAKE_HOME", str(home))
    monkeypatch.setenv("DAGSTER_HOME", str(REPO_ROOT))
    with dg.DagsterInstance.get() as instance:
        runs = sorted((run.job_name, run.status.value) for run in instance.get_runs())
        return instance.get_dynamic_partitions("snapshots"), runs


def test_ingest_reports_each_file_and_fails_for_a_rejected_one(ingested, monkeypatch):
    home, image, ingest = ingested
    assert ingest.returncode == 1, ingest.stderr
    assert "snapshot hf-trending-2026-11-26, 248 papers" in ingest.stdout
    rejected = [line for line in ingest.stderr.splitlines() if line.startswith("rejected")]
    assert rejected == [f"rejected {image}: binary file (a PNG image), not a text dump"]
    # the runs were recorded in this home's Dagster instance, where the UI reads them
    assert _instance_view(home, monkeypatch) == (
        ["hf-trending-2026-11-26", "screenshot"],
        [("snapshot_job", "FAILURE"), ("snapshot_job", "SUCCESS"), ("trends_job", "SUCCESS")],
    )


def test_sql_in_every_format(ingested):
    home, _, _ = ingested
    as_json = _run(
        home,
        "sql",
        "--format",
        "json",
        "SELECT rank, title FROM latest_papers ORDER BY rank LIMIT 2",
    )
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)[0] == {
        "rank": 1,
        "title": "Codebook Features: Sparse and Discrete Interpretability for Neural Networks",
    }
    as_csv = _run(home, "sql", "--format", "csv", "SELECT snapshot_id, n_papers FROM snapshots")
    assert list(csv.DictReader(io.StringIO(as_csv.stdout))) == [
        {"snapshot_id": "hf-trending-2026-11-26", "n_papers": "248"}
    ]
    assert "248" in _run(home, "sql", "SELECT count(*) AS n FROM papers").stdout
    broken = _run(home, "sql", "SELECT * FROM no_such_table")
    assert broken.returncode != 0 and "no_such_table" in broken.stderr


def test_interactive_shell_answers_queries(ingested):
    home, _, _ = ingested
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


def test_search_from_the_command_line(ingested):
    home, _, _ = ingested
    found = _run(home, "search", "grokking", "--limit", "3", "--format", "json")
    assert found.returncode == 0, found.stderr
    assert all("grokking" in row["title"].lower() for row in json.loads(found.stdout))
    refused = _run(home, "search", "grokking", "--limit", "0")
    assert refused.returncode == 2 and "'--limit': 0 is not in the range" in refused.stderr


def test_two_homes_never_share_partitions_or_runs(ingested, tmp_path, monkeypatch):
    first, _, _ = ingested
    second = tmp_path / "two"
    other = tmp_path / "other-2026-11-25.txt"
    other.write_bytes(b"\n".join(SAMPLE_DUMP.read_bytes().split(b"\n")[:10]))
    assert _run(second, "ingest", str(other)).returncode == 0
    assert _instance_view(second, monkeypatch) == (
        ["other-2026-11-25"],
        [("snapshot_job", "SUCCESS"), ("trends_job", "SUCCESS")],
    )
    assert "other-2026-11-25" not in _instance_view(first, monkeypatch)[0]
    count = "SELECT count(*) AS n FROM papers"
    assert json.loads(_run(second, "sql", "--format", "json", count).stdout) == [{"n": 4}]
    assert json.loads(_run(first, "sql", "--format", "json", count).stdout) == [{"n": 248}]


def test_compact_from_the_command_line(tmp_path, monkeypatch):
    home, later = tmp_path / "home", tmp_path / "hf-trending-2026-11-27.txt"
    later.write_bytes(b"\n".join(SAMPLE_DUMP.read_bytes().split(b"\n")[:10]))
    assert _run(home, "ingest", str(SAMPLE_DUMP), str(later)).returncode == 0
    count = "SELECT count(*) AS n FROM papers"
    compacted = _run(home, "compact")
    assert compacted.returncode == 0, compacted.stderr
    assert "keyword_trends: 3 data files -> 1" in compacted.stdout
    again = _run(home, "compact")
    assert again.stdout.strip() == "nothing to compact: every table is one file without deletes"
    # with a retention of a second, every version but the latest is expired, and says so
    monkeypatch.setenv("PAPERLAKE_KEEP_VERSIONS_DAYS", str(1 / 86400))
    expired = _run(home, "compact")
    assert expired.returncode == 0, expired.stderr
    assert re.search(r"^\d+ warehouse versions from before .* expired", expired.stdout, re.M)
    gone = _run(home, "sql", "--as-of", "1", count)
    assert gone.returncode == 1 and "has no version '1' (any more)" in gone.stderr
    monkeypatch.setenv("PAPERLAKE_KEEP_VERSIONS_DAYS", "a month")
    refused = _run(home, "compact")
    assert refused.returncode == 1 and "number of days" in refused.stderr
    monkeypatch.delenv("PAPERLAKE_KEEP_VERSIONS_DAYS")
    assert json.loads(_run(home, "sql", "--format", "json", count).stdout) == [{"n": 248}]
    assert ("compaction_job", "SUCCESS") in _instance_view(home, monkeypatch)[1]
    missing = _run(tmp_path / "empty", "compact")
    assert missing.returncode == 1 and "ingest a dump first" in missing.stderr


def test_demo_ingests_the_sample_and_every_location_it_prints_exists(tmp_path):
    done = _run(tmp_path / "home", "demo")
    assert done.returncode == 0, done.stderr[-2000:]
    printed = {
        label.strip(): Path(value.strip())
        for label, value in (
            line.split(" : ", 1) for line in done.stdout.splitlines() if " : " in line
        )
        if value.strip().startswith("/")
    }
    assert sorted(printed) == ["Digest", "Feed", "Parquet artifacts", "Trend report"]
    for label, location in printed.items():
        assert location.exists(), f"{label}: {location} does not exist"
    assert "Codebook Features" in printed["Digest"].read_text()
    assert printed["Digest"].with_suffix(".md").exists()
