"""Accepting, archiving and rejecting landed dumps without harming what is stored."""

import dagster as dg
import pytest

from pipeline.artifacts import ArtifactStore
from pipeline.formats import ParseError
from pipeline.ingest import RAW_ARTIFACT, archive_snapshot
from pipeline.landing import snapshot_key

KEY = "hf-trending-2026-11-26"


def test_accepted_dump_is_archived_and_leaves_landing(home, sample_bytes):
    dropped = home.landing / f"{KEY}.txt"
    dropped.write_bytes(sample_bytes)
    version = archive_snapshot(home, ArtifactStore(home.artifacts), KEY)
    assert not dropped.exists()
    assert version.extra == {
        "source_name": f"{KEY}.txt",
        "format": "listing_text",
        "encoding": "utf-8",
        "observed_on": "2026-11-26",
    }
    assert version.rows == 248


def test_a_broken_redrop_keeps_the_stored_version(home, sample_bytes):
    store = ArtifactStore(home.artifacts)
    (home.landing / f"{KEY}.txt").write_bytes(sample_bytes)
    good = archive_snapshot(home, store, KEY)
    (home.landing / f"{KEY}.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(32))
    with pytest.raises(ParseError, match="PNG"):
        archive_snapshot(home, store, KEY)
    assert store.current(RAW_ARTIFACT, KEY) == good
    assert len(list(home.quarantine.glob("*.reason.json"))) == 1


def test_symlink_in_landing_is_rejected_not_followed(home, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(
        "Paper\nA long enough abstract about secrets that must never be read. Really."
    )
    (home.landing / "link.txt").symlink_to(secret)
    with pytest.raises(ParseError, match="symbolic link"):
        archive_snapshot(home, ArtifactStore(home.artifacts), "link")
    assert secret.read_text().startswith("Paper"), "the target is untouched"
    assert not (home.landing / "link.txt").exists()
    quarantined = [p for p in home.quarantine.iterdir() if not p.name.endswith(".json")]
    assert [p.is_symlink() for p in quarantined] == [True]
    assert ArtifactStore(home.artifacts).current(RAW_ARTIFACT, "link") is None


def test_landing_file_names_from_config_cannot_escape(home, tmp_path, sample_bytes):
    outside = tmp_path / "outside.txt"
    outside.write_bytes(sample_bytes)
    with pytest.raises(LookupError, match="no dump for snapshot"):
        archive_snapshot(home, ArtifactStore(home.artifacts), "outside", "../../outside.txt")
    assert outside.exists()


def test_oversized_dumps_are_rejected_before_reading(home, monkeypatch):
    monkeypatch.setattr("pipeline.ingest.MAX_DUMP_BYTES", 1000)
    (home.landing / "big.txt").write_bytes(b"x" * 1001)
    with pytest.raises(ParseError, match="over the 1,000-byte limit"):
        archive_snapshot(home, ArtifactStore(home.artifacts), "big")


NASTY_NAMES = [
    "../../../etc/passwd",
    "..",
    "a..b..txt",
    "con:aux|prn<>.txt",
    "name with spaces & symbols!.txt",
    "\x00\x01\x1f control.txt",
    "line\nbreak.txt",
    "ünïcödé-名前.txt",
    "-leading-dash.txt",
    "." * 50,
    "x" * 400,
]


@pytest.mark.parametrize("name", NASTY_NAMES)
def test_snapshot_keys_from_nasty_names_are_accepted_by_dagster(name, instance):
    key = snapshot_key(name)
    assert ".." not in key and "/" not in key and key == key.strip(".-_")
    instance.add_dynamic_partitions("snapshots", [key])
    assert key in instance.get_dynamic_partitions("snapshots")
    dg.DynamicPartitionsDefinition(name="snapshots").build_add_request([key])
