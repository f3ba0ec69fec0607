"""Shared fixtures: a throw-away paperlake home and a real Dagster instance inside it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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
