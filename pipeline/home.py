"""Where paperlake keeps its state.

One environment variable, ``PAPERLAKE_HOME``, relocates everything: the landing folder, the
raw archive, the Parquet artifacts, the warehouse, the reports and the Dagster instance storage.
Without it, state lives in ``.paperlake/`` inside the checkout (ignored by git).

``PAPERLAKE_STORAGE`` (e.g. ``s3://paperlake/home``) moves the state that every step of a run
shares (landing, quarantine, artifacts, reports, search index, fetch state) onto object storage,
so steps on several machines need no shared volume; the folder properties below then describe
only the default local layout.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from pipeline.storage import STORAGE_ENV, Storage, open_storage

HOME_ENV = "PAPERLAKE_HOME"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_HOME = REPO_ROOT / ".paperlake"
SAMPLE_DUMP = REPO_ROOT / "samples" / "hf-trending-2026-11-26.txt"
# Where the shared state lives, relative to the shared storage (``Home.shared``); on a local
# disk these are the folders of the home itself.
LANDING = "landing"
QUARANTINE = "quarantine"
ARTIFACTS = "artifacts"
REPORTS = "reports"
SEARCH = "warehouse/search"
FETCH_STATE = "fetch/state.json"


@dataclass(frozen=True)
class Home:
    """The folders of one paperlake home. Creating a ``Home`` touches nothing on disk."""

    root: Path
    storage_url: str = ""
    # The object store's credentials and endpoint, as the environment gave them (else read from
    # the process environment when first needed).
    storage_env: tuple[tuple[str, str], ...] = ()
    # The threads each DuckDB database this process opens for the home may use: its share of
    # the cores when other work shares them (None: every core; ``pipeline.duckdb_limits``).
    duckdb_threads: int | None = None

    @cached_property
    def shared(self) -> Storage:
        """Where the state every step shares lives: ``PAPERLAKE_STORAGE``, else this folder."""
        return open_storage(self.storage_url or str(self.root), dict(self.storage_env) or None)

    @property
    def landing(self) -> Path:
        """Users and scrapers drop raw dumps here."""
        return self.root / LANDING

    @property
    def quarantine(self) -> Path:
        """Rejected dumps, each with a ``.reason.json`` sidecar."""
        return self.root / QUARANTINE

    @property
    def artifacts(self) -> Path:
        """Versioned, content-addressed artifacts: archived raw dumps, Parquet tables, reports."""
        return self.root / ARTIFACTS

    @property
    def warehouse(self) -> Path:
        """The DuckLake warehouse: SQLite catalog plus Parquet data files."""
        return self.root / "warehouse"

    @property
    def catalog(self) -> Path:
        return self.warehouse / "catalog.sqlite"

    @property
    def warehouse_data(self) -> Path:
        return self.warehouse / "data"

    @property
    def search(self) -> Path:
        """Full-text search segments (DuckDB files with fts indexes) and their manifest."""
        return self.root / SEARCH

    @property
    def reports(self) -> Path:
        return self.root / REPORTS

    @property
    def dagster(self) -> Path:
        """Dagster run, event-log and schedule storage, artifacts and compute logs."""
        return self.root / "dagster"

    def ensure(self) -> Home:
        """Create the folders a pipeline run writes to; returns ``self``."""
        shared = (self.landing, self.quarantine, self.artifacts, self.reports)
        for folder in (*(shared if self.shared.is_local else ()), self.dagster):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def resolve_home(env: Mapping[str, str] | None = None) -> Home:
    """The home named by ``PAPERLAKE_HOME`` (else the default inside the checkout), with its
    shared state where ``PAPERLAKE_STORAGE`` says."""
    env = os.environ if env is None else env
    configured = env.get(HOME_ENV, "").strip()
    root = Path(configured).expanduser() if configured else DEFAULT_HOME
    storage_url = env.get(STORAGE_ENV, "").strip()
    storage_env = tuple(
        sorted((k, v) for k, v in env.items() if k.startswith(("AWS_", "PAPERLAKE_S3_")))
    )
    return Home(root.resolve(), storage_url, storage_env if storage_url else ())
