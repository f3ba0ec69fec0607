"""Dagster instance storage that follows ``PAPERLAKE_HOME``.

The root ``dagster.yaml`` names these classes, so every process that loads the instance (the
webserver, the daemon, run workers, ``paperlake`` commands, tests) keeps its runs, event logs,
schedules, artifacts and compute logs under ``$PAPERLAKE_HOME/dagster``. Two homes never see
each other's runs or partitions, and plain ``dagster dev`` from the checkout uses the default home.
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import Any

from dagster._core.storage.local_compute_log_manager import LocalComputeLogManager
from dagster._core.storage.root import LocalArtifactStorage
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage
from dagster._serdes import ConfigurableClassData

from pipeline.home import resolve_home

_SUBDIR = {"subdir": str}


def _home_dir(config_value: dict[str, Any]) -> str:
    folder = resolve_home().dagster / config_value["subdir"]
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder)


class HomeSqliteStorage(DagsterSqliteStorage):
    """SQLite run, event-log and schedule storage in ``$PAPERLAKE_HOME/dagster/<subdir>``."""

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        return _SUBDIR

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData, config_value: dict[str, Any]
    ) -> HomeSqliteStorage:
        folder = _home_dir(config_value)
        # Two processes opening a new home at once would both create the SQLite tables.
        with open(Path(folder) / ".create.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            return cls.from_local(folder, inst_data=inst_data)


class HomeArtifactStorage(LocalArtifactStorage):
    """Local artifact storage in ``$PAPERLAKE_HOME/dagster/<subdir>``."""

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        return _SUBDIR

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, Any]
    ) -> HomeArtifactStorage:
        return cls(_home_dir(config_value), inst_data=inst_data)


class HomeComputeLogManager(LocalComputeLogManager):
    """Compute logs (step stdout/stderr) in ``$PAPERLAKE_HOME/dagster/<subdir>``."""

    @classmethod
    def config_type(cls) -> dict[str, Any]:
        return _SUBDIR

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, Any]
    ) -> HomeComputeLogManager:
        return cls(_home_dir(config_value), inst_data=inst_data)
