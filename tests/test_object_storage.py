"""Shared state on an S3 server (moto, in server mode on loopback): storage operations, the
artifact store, and a whole snapshot run whose landing, artifacts, reports and search index live
in the bucket, readable from a second home as from another machine."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from benchmarks.cluster import _free_port, reachable, wait_until
from pipeline.artifacts import ArtifactStore, artifact_store
from pipeline.home import HOME_ENV, SAMPLE_DUMP, Home, resolve_home
from pipeline.storage import Storage, open_storage

pytest.importorskip("moto", reason="moto[server] is a dev dependency: pip install -e '.[dev]'")

KEY = "hf-trending-2026-11-26"


@pytest.fixture(scope="module")
def s3_env() -> Iterator[dict[str, str]]:
    """A moto S3 server on a free loopback port; the variables that reach it."""
    import boto3

    port = _free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: reachable(port), 30, "the S3 server")
        env = {
            "AWS_ACCESS_KEY_ID": "paperlake",
            "AWS_SECRET_ACCESS_KEY": "paperlake",
            "AWS_REGION": "us-east-1",
            "PAPERLAKE_S3_ENDPOINT": f"127.0.0.1:{port}",
        }
        boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{port}",
            region_name="us-east-1",
            aws_access_key_id="paperlake",
            aws_secret_access_key="paperlake",
        ).create_bucket(Bucket="paperlake")
        yield env
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def bucket(s3_env: dict[str, str]) -> Storage:
    """A fresh prefix in the bucket."""
    return open_storage(f"s3://paperlake/{uuid.uuid4().hex[:8]}", s3_env)


def test_storage_operations_on_s3(bucket: Storage, tmp_path: Path) -> None:
    assert bucket.url().startswith("s3://paperlake/")
    assert bucket.read_text("missing.txt") is None
    bucket.write("a/one.txt", b"one")
    assert (bucket.exists("a/one.txt"), bucket.size("a/one.txt")) == (True, 3)
    assert bucket.read("a/one.txt") == b"one"
    bucket.move("a/one.txt", "b/moved.txt")
    assert not bucket.exists("a/one.txt")
    source = tmp_path / "big.bin"
    source.write_bytes(bytes(range(256)) * 10_000)
    bucket.upload(source, "b/big.bin")
    assert source.exists(), "an upload to object storage copies"
    assert sorted(i.path for i in bucket.list("b")) == ["b/big.bin", "b/moved.txt"]
    assert [i.path for i in bucket.list()] == [], "not recursive unless asked"
    with bucket.local_copy("b/big.bin") as local:
        assert local.read_bytes() == source.read_bytes()
    assert not local.exists(), "the download is removed afterwards"
    bucket.delete("b/moved.txt")
    bucket.delete("b/moved.txt")  # deleting what is gone is not an error
    assert [i.path for i in bucket.list(recursive=True)] == ["b/big.bin"]


def test_artifact_store_on_s3(bucket: Storage) -> None:
    store = ArtifactStore(bucket)
    first = store.put("raw", "day", b"dump", suffix=".txt", code_version="1")
    assert store.put("raw", "day", b"dump", suffix=".txt", code_version="1") == first
    assert first.path == bucket.url(f"raw/day/{first.version}.txt")
    table = pa.table({"n": pa.array(range(50_000), pa.int64())})
    stored = store.put_table("numbers", "day", table, code_version="1")
    assert store.read_table("numbers", "day").equals(table)
    assert store.parquet_file(stored).metadata.num_row_groups == 4
    with store.local_copy(stored) as local:
        assert local.stat().st_size == bucket.size(stored.blob)
    second = store.put("raw", "day", b"dump 2", suffix=".txt", code_version="1")
    assert [v.version for v in store.versions("raw", "day")] == [first.version, second.version]
    assert store.find(first.version[:8]).version == first.version
    assert store.remove(first) == len(b"dump")
    # every version left, by artifact name
    assert [v.version for v in store.versions()] == [stored.version, second.version]
    assert store.read_bytes("raw", "day") == b"dump 2"


def test_a_snapshot_runs_with_its_shared_state_on_s3(
    s3_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assets.runs import ingest_files
    from pipeline import search, warehouse
    from pipeline.home import REPO_ROOT

    shared = f"s3://paperlake/{uuid.uuid4().hex[:8]}"
    for key, value in {**s3_env, "PAPERLAKE_STORAGE": shared}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "machine-a"))
    monkeypatch.setenv("DAGSTER_HOME", str(REPO_ROOT))
    home = resolve_home()
    bad = tmp_path / "broken-2026-11-27.txt"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))

    outcomes = ingest_files([SAMPLE_DUMP, bad], home)
    assert [o.ok for o in outcomes] == [True, False], [o.message for o in outcomes]
    assert "PNG" in outcomes[1].message

    storage = home.shared
    assert storage.url() == shared
    names = {info.path for info in storage.list(recursive=True)}
    for expected in (
        "reports/snapshot_report/latest.html",
        "reports/trend_report/latest.md",
        "reports/feed.xml",
        "warehouse/search/segments.json",
    ):
        assert expected in names, f"{expected} not in the bucket: {sorted(names)[:20]}"
    assert not any(n.startswith("landing/") for n in names), "accepted dumps leave landing"
    reasons = [n for n in names if n.startswith("quarantine/") and n.endswith(".reason.json")]
    assert len(reasons) == 1
    assert json.loads(storage.read(reasons[0]))["file"] == bad.name
    store = artifact_store(home)
    papers = store.require("papers", KEY)
    assert papers.path.startswith(shared) and papers.rows == 248
    local_state = [
        p
        for folder in ("landing", "quarantine", "artifacts", "reports", "warehouse/search")
        for p in (home.root / folder).rglob("*")
        if p.is_file()
    ]
    assert local_state == [], "shared state must not be written to the local home"

    # Another machine: its own home, the same storage and warehouse.
    other = Home(tmp_path / "machine-b", shared, home.storage_env)
    monkeypatch.setenv("PAPERLAKE_CATALOG", f"sqlite:{home.catalog}")
    monkeypatch.setenv("PAPERLAKE_DATA_PATH", str(home.warehouse_data))
    with warehouse.session(other, read_only=True) as con:
        hits = warehouse.find_papers(con, "grokking", 5).num_rows
    assert hits, "full-text search from another machine found nothing"
    assert sorted(p.name for p in (other.root / "cache" / "search").iterdir()) == sorted(
        s.file_name for s in search.segment_files(other).live()
    )
    assert artifact_store(other).read_table("papers", KEY).num_rows == 248
