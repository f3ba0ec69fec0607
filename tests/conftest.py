"""Shared fixtures: a throw-away paperlake home and a real Dagster instance inside it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Mail retries wait 30 s, 60 s, 120 s in production; tests cannot wait that long. Set before the
# assets are imported, since the retry policy is part of the asset definition.
os.environ.setdefault("PAPERLAKE_MAIL_RETRY_DELAY", "0.2")

from pipeline.home import HOME_ENV, REPO_ROOT, SAMPLE_DUMP, Home


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    """An empty PAPERLAKE_HOME for this test (the environment variable points at it)."""
    root = tmp_path / "home"
    monkeypatch.setenv(HOME_ENV, str(root))
    return Home(root).ensure()


@pytest.fixture(scope="session")
def sample_bytes() -> bytes:
    return SAMPLE_DUMP.read_bytes()


@pytest.fixture
def instance(home: Home, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """The project's Dagster instance (root dagster.yaml), storing under the test's home."""
    import dagster as dg

    monkeypatch.setenv("DAGSTER_HOME", str(REPO_ROOT))
    with dg.DagsterInstance.get() as dagster_instance:
        yield dagster_instance


def materialize_snapshot(instance, home: Home, key: str, data: bytes, *extra: str):
    """Land ``data`` as snapshot ``key`` and materialize its snapshot_job assets (and ``extra``
    assets) in process against ``instance``; a step that fails raises its error here, so a test
    says which step failed and why."""
    import dagster as dg

    from assets.jobs import snapshot_job
    from assets.resources import PaperlakeResource
    from pipeline.definitions import defs

    (home.landing / f"{key}.txt").write_bytes(data)
    if not instance.has_dynamic_partition("snapshots", key):
        instance.add_dynamic_partitions("snapshots", [key])
    assets_defs = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition)]
    return dg.materialize(
        [*assets_defs, *defs.asset_checks],
        instance=instance,
        partition_key=key,
        resources={"paperlake": PaperlakeResource()},
        run_config={"ops": {"raw_listing": {"config": {"landing_file": f"{key}.txt"}}}},
        selection=snapshot_job.selection | dg.AssetSelection.assets(*extra),
    )


def load_dump(con, snapshot_id: str, data: bytes, day, *, link_related: bool = True) -> dict:
    """Load one dump into an open warehouse connection the way the assets do; returns the ids
    that identity resolution changed."""
    from datetime import UTC, datetime

    from pipeline import warehouse
    from pipeline.formats import parse_dump
    from pipeline.keyphrases import keyphrase_table
    from pipeline.links import link_table
    from pipeline.snapshots import SnapshotInfo, snapshot_record, with_snapshot_id

    papers = with_snapshot_id(parse_dump(data, f"{snapshot_id}.txt").papers, snapshot_id)
    info = SnapshotInfo(
        snapshot_id,
        f"{snapshot_id}.txt",
        "sha",
        "listing_text",
        "utf-8",
        day,
        datetime(day.year, day.month, day.day, 8, tzinfo=UTC),
        papers.num_rows,
    )
    mapping = warehouse.load_snapshot(
        con, snapshot_record(info, "v"), papers, keyphrase_table(papers), link_table(papers)
    )
    if link_related:
        warehouse.index_related(con, snapshot_id)
    return mapping


def sample_papers() -> list[tuple[str, str]]:
    """(title, abstract) of every paper of the bundled sample, in rank order."""
    lines = SAMPLE_DUMP.read_text(encoding="utf-8").split("\n")
    lines[2] = lines[2].removeprefix("Subscribe")
    return list(zip(lines[2::2], lines[3::2], strict=False))


def listing(papers: list[tuple[str, str]]) -> bytes:
    return "\n".join(f"{title}\n{abstract}" for title, abstract in papers).encode("utf-8")
