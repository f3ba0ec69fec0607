"""Versions of a snapshot: listing, diffing, querying the past, retention, and a full disk."""

import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline import warehouse
from pipeline.artifacts import ArtifactStore
from pipeline.cli import main
from pipeline.ingest import RAW_ARTIFACT
from pipeline.versions import plan_collection
from tests.conftest import listing, materialize_snapshot, sample_papers

KEY = "hf-trending-2026-11-26"


@pytest.fixture
def two_versions(home, instance):
    """The same snapshot ingested twice: the second dump drops one paper, adds one, edits one."""
    papers = sample_papers()[:30]
    materialize_snapshot(instance, home, KEY, listing(papers))
    edited = [*papers[:3], (papers[3][0], papers[3][1] + " We add a sentence."), *papers[5:]]
    edited.append(
        (
            "A Brand New Paper On Grokking",
            "We study grokking, in an abstract long enough to be one. It is new.",
        )
    )
    materialize_snapshot(instance, home, KEY, listing(edited))
    store = ArtifactStore(home.artifacts)
    old, new = sorted(store.versions("papers", KEY), key=lambda v: store.is_current(v))
    return home, old, new, papers


def _cli(home, *args: str):
    result = CliRunner().invoke(main, list(args), env={"PAPERLAKE_HOME": str(home.root)})
    assert result.exit_code == 0, result.output
    return result.output


def test_versions_lists_both_and_marks_the_current_one(two_versions):
    home, old, new, _ = two_versions
    output = _cli(home, "versions", "papers", "--snapshot", KEY)
    assert old.short in output and new.short in output
    current_line = next(line for line in output.splitlines() if new.short in line)
    assert "*" in current_line and "raw_listing" in current_line


def test_diff_names_what_changed(two_versions):
    home, old, new, papers = two_versions
    output = _cli(home, "diff", old.version[:10], new.version[:10])
    assert "1 added, 1 removed, 1 changed" in output
    assert "+ A Brand New Paper On Grokking" in output
    assert f"- {papers[4][0]}" in output
    assert f"~ {papers[3][0]} (abstract)" in output
    assert "keyphrases changed in" in output
    raw = ArtifactStore(home.artifacts).current(RAW_ARTIFACT, KEY)
    assert f"-> {new.short}" in _cli(home, "diff", old.version[:10], raw.version[:10])


def test_sql_as_of_reads_the_warehouse_before_the_second_load(two_versions):
    home, old, *_ = two_versions
    with warehouse.session(home, read_only=True) as con:
        history = con.execute(
            "SELECT snapshot_id, commit_message FROM lake.snapshots() ORDER BY snapshot_id"
        ).fetchall()
    first_load = next(v for v, message in history if message and old.version[:12] in message)
    query = "SELECT count(*) AS n FROM papers WHERE title LIKE 'A Brand New%'"
    assert "│     0 │" in _cli(home, "sql", "--as-of", str(first_load), query)
    assert "│     1 │" in _cli(home, "sql", query)


def test_gc_keeps_current_versions_and_what_they_were_made_from(home):
    store = ArtifactStore(home.artifacts)
    raw1 = store.put(RAW_ARTIFACT, KEY, b"dump one", suffix=".txt", code_version="1")
    papers1 = store.put(
        "papers",
        KEY,
        b"papers one",
        suffix=".parquet",
        code_version="1",
        upstream={RAW_ARTIFACT: raw1.version},
    )
    raw2 = store.put(RAW_ARTIFACT, KEY, b"dump two", suffix=".txt", code_version="1")
    papers2 = store.put(
        "papers",
        KEY,
        b"papers two",
        suffix=".parquet",
        code_version="1",
        upstream={RAW_ARTIFACT: raw2.version},
    )
    raw3 = store.put(
        RAW_ARTIFACT, KEY, b"dump three, not parsed yet", suffix=".txt", code_version="1"
    )

    plan = plan_collection(store, keep_last=1)
    removed = {(v.artifact, v.version) for v in plan.remove}
    assert removed == {(RAW_ARTIFACT, raw1.version), ("papers", papers1.version)}
    assert (RAW_ARTIFACT, raw2.version) not in removed, "papers two was made from dump two"
    for version in plan.remove:
        store.remove(version)
    assert store.current(RAW_ARTIFACT, KEY) == raw3 and store.current("papers", KEY) == papers2
    assert not os.path.exists(raw1.path)
    assert plan_collection(store, older_than=timedelta(days=1)).remove == []


def test_gc_command_dry_run_removes_nothing(two_versions):
    home, old, new, _ = two_versions
    output = _cli(home, "gc", "--keep", "1", "--dry-run")
    assert f"would remove papers/{KEY} {old.short}" in output
    assert os.path.exists(old.path) and os.path.exists(new.path)
    _cli(home, "gc", "--keep", "1")
    assert not os.path.exists(old.path) and os.path.exists(new.path)


def test_a_full_disk_fails_with_a_clear_error_and_keeps_the_previous_version(home, sample_bytes):
    store = ArtifactStore(home.artifacts)
    (home.landing / f"{KEY}.txt").write_bytes(listing(sample_papers()[:20]))
    script = textwrap.dedent(
        f"""
        import resource, signal
        from pipeline.artifacts import ArtifactStore
        from pipeline.home import resolve_home
        from pipeline.ingest import archive_snapshot
        home = resolve_home()
        archive_snapshot(home, ArtifactStore(home.artifacts), {KEY!r})
        (home.landing / "{KEY}.txt").write_bytes(open({str(home.root / "big.txt")!r}, "rb").read())
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))  # the disk is now "full"
        archive_snapshot(home, ArtifactStore(home.artifacts), {KEY!r})
        """
    )
    (home.root / "big.txt").write_bytes(sample_bytes)
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PAPERLAKE_HOME": str(home.root)},
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    last_line = done.stderr.strip().splitlines()[-1]
    assert "StorageError" in last_line and "the previous version is unchanged" in last_line
    current = store.current(RAW_ARTIFACT, KEY)
    assert current is not None and current.rows == 20
    assert Path(current.path).read_bytes() == listing(sample_papers()[:20])
    assert (home.landing / f"{KEY}.txt").exists(), "the new dump waits in landing for a retry"
