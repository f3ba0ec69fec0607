"""Content-addressed artifacts."""

import shutil

import pyarrow as pa

from pipeline.artifacts import ArtifactStore, artifact_store, sha256_hex
from pipeline.home import Home


def test_identical_bytes_make_no_new_version(tmp_path):
    store = ArtifactStore(tmp_path)
    first = store.put("raw", "k", b"hello", suffix=".txt", code_version="1")
    again = store.put("raw", "k", b"hello", suffix=".txt", code_version="1")
    assert again == first
    assert first.version == sha256_hex(b"hello")
    assert sorted(p.name for p in (tmp_path / "raw" / "k").iterdir()) == [
        f"{first.version}.manifest.json",
        f"{first.version}.txt",
        "current.json",
    ]


def test_changed_bytes_make_a_new_version_and_keep_the_old(tmp_path):
    store = ArtifactStore(tmp_path)
    old = store.put("raw", "k", b"v1", suffix=".txt", code_version="1")
    new = store.put("raw", "k", b"v2", suffix=".txt", code_version="1")
    assert new.version != old.version
    assert store.current("raw", "k") == new
    assert (tmp_path / "raw" / "k" / f"{old.version}.txt").read_bytes() == b"v1"


def test_tables_round_trip_and_hash_deterministically(tmp_path):
    store = ArtifactStore(tmp_path)
    table = pa.table({"a": pa.array([1, 2, 3], pa.int32())})
    one = store.put_table("t", "p", table, code_version="1")
    two = ArtifactStore(tmp_path / "other").put_table("t", "p", table, code_version="1")
    assert one.version == two.version
    assert one.rows == 3
    assert store.read_table("t", "p").equals(table)


def test_no_temporary_files_are_left_behind(tmp_path):
    store = ArtifactStore(tmp_path)
    store.put("raw", "k", b"x", suffix=".txt", code_version="1")
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


def test_a_json_artifact_keeps_its_bytes_beside_its_manifest(tmp_path):
    store = ArtifactStore(tmp_path)
    data = b'[{"paper": {"id": "1"}}]'
    version = store.put("raw", "k", data, suffix=".json", code_version="1")
    assert store.read_bytes("raw", "k") == data
    assert [v.version for v in store.versions("raw", "k")] == [version.version]


def test_a_moved_home_keeps_its_artifacts(tmp_path):
    """Versions record where their bytes were written; a copied home reads its own copy."""
    first = Home(tmp_path / "first").ensure()
    stored = artifact_store(first).put(
        "snapshot_report_md", "day1", b"# day 1", suffix=".md", code_version="1"
    )
    shutil.copytree(first.root, tmp_path / "moved")
    shutil.rmtree(first.root)
    store = artifact_store(Home(tmp_path / "moved").ensure())
    assert store.read_bytes("snapshot_report_md", "day1") == b"# day 1"
    newer = store.put(
        "snapshot_report_md", "day1", b"# day 1, again", suffix=".md", code_version="1"
    )
    assert store.remove(stored) == len(b"# day 1")
    assert store.read_bytes("snapshot_report_md", "day1") == b"# day 1, again" and newer.blob
