"""Snapshot keys from untrusted file names, dates in names, quarantine."""

import json
from datetime import date
from pathlib import Path

import pytest

from pipeline.landing import (
    land,
    landing_interval,
    observed_on,
    quarantine,
    scan_landing,
    snapshot_key,
)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("hf-trending-2026-11-26.txt", "hf-trending-2026-11-26"),
        ("../../etc/passwd", "passwd"),
        ("a/b\\c d.txt", "b-c-d"),
        ("..hidden..txt", "hidden"),
        ("tab\tand\x00nul.json", "tab-and-nul"),
        ("日本語 papers.txt", "papers"),
        ("", "snapshot"),
        ("x" * 300 + ".txt", "x" * 100),
    ],
)
def test_snapshot_keys_are_safe(name, key):
    assert snapshot_key(name) == key


def test_observed_on_reads_dates_in_names():
    assert observed_on("hf-trending-2026-11-26") == date(2026, 11, 26)
    assert observed_on("dump_20261125") == date(2026, 11, 25)
    assert observed_on("dump-2026-13-45") is None
    assert observed_on("no-date") is None


def test_land_copies_under_a_safe_name(home, tmp_path):
    source = tmp_path / "my dump (1).txt"
    source.write_text("content")
    landed = land(home, source)
    assert landed.name == "my-dump-1.txt"
    assert (home.landing / landed.name).read_text() == "content"
    assert source.exists()


def test_scan_skips_hidden_and_temporary_files_and_lists_links_unfollowed(home, tmp_path):
    (home.landing / "ok.txt").write_text("x")
    (home.landing / ".hidden.txt").write_text("x")
    (home.landing / "partial.txt.part").write_text("x")
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    (home.landing / "link.txt").symlink_to(outside)
    (home.landing / "folder").mkdir()
    found = {f.name: f for f in scan_landing(home)}
    assert sorted(found) == ["link.txt", "ok.txt"]
    assert found["link.txt"].size != len("secret"), "the link's own size, not its target's"


def test_quarantine_moves_the_file_beside_a_reason(home):
    bad = home.landing / "bad.txt"
    bad.write_bytes(b"")
    moved = Path(quarantine(home, bad.name, "file is empty"))
    assert not bad.exists()
    assert moved.parent == home.quarantine
    sidecar = json.loads(moved.with_name(moved.name + ".reason.json").read_text())
    assert sidecar["file"] == "bad.txt"
    assert sidecar["reason"] == "file is empty"


def test_the_landing_interval_is_longer_on_object_storage_and_configurable():
    assert landing_interval({}) == 15
    assert landing_interval({"PAPERLAKE_STORAGE": "s3://bucket/home"}) == 60
    assert landing_interval({"PAPERLAKE_LANDING_INTERVAL": "300"}) == 300
    for bad in ("fast", "2", "-30", "1.5"):
        with pytest.raises(ValueError, match=r"PAPERLAKE_LANDING_INTERVAL=.*whole number"):
            landing_interval({"PAPERLAKE_LANDING_INTERVAL": bad})
