"""The one resource every asset uses: the paperlake home and what lives in it."""

import os
from dataclasses import replace

import dagster as dg
from pydantic import PrivateAttr

from assets.executors import profile
from pipeline.artifacts import ArtifactStore, artifact_store
from pipeline.batches import cpu_cores
from pipeline.duckdb_limits import cores_share
from pipeline.home import HOME_ENV, Home, resolve_home

# Runs that hold or are about to hold a run worker's process on this machine.
IN_PROGRESS = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]


class PaperlakeResource(dg.ConfigurableResource):
    """Paths, artifact store and warehouse of one paperlake home.

    ``home`` defaults to ``PAPERLAKE_HOME`` (or the checkout's ``.paperlake``), resolved when a
    run starts, so the same definitions serve every home. A run that starts while other runs are
    in progress gives DuckDB only its share of the machine's cores (``pipeline.duckdb_limits``).
    """

    home: str = ""
    _duckdb_threads: int | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # In the embedded profile every run executes on this machine; distributed steps run on
        # workers elsewhere, where this instance's runs say nothing about the cores.
        if context.instance is None or profile() != "embedded":
            return
        runs = context.instance.get_runs_count(dg.RunsFilter(statuses=IN_PROGRESS))
        cores = cpu_cores()
        self._duckdb_threads = cores_share(runs, cores)
        if self._duckdb_threads is not None:
            context.log.info(
                f"{runs} runs in progress on {cores} cores: this run's DuckDB uses "
                f"{self._duckdb_threads} thread(s)"
            )

    @property
    def paths(self) -> Home:
        home = resolve_home({**os.environ, HOME_ENV: self.home} if self.home else None).ensure()
        return replace(home, duckdb_threads=self._duckdb_threads)

    @property
    def store(self) -> ArtifactStore:
        return artifact_store(self.paths)
