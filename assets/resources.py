"""The one resource every asset uses: the paperlake home and what lives in it."""

import os

import dagster as dg

from pipeline.artifacts import ArtifactStore, artifact_store
from pipeline.home import HOME_ENV, Home, resolve_home


class PaperlakeResource(dg.ConfigurableResource):
    """Paths, artifact store and warehouse of one paperlake home.

    ``home`` defaults to ``PAPERLAKE_HOME`` (or the checkout's ``.paperlake``), resolved when a
    run starts, so the same definitions serve every home.
    """

    home: str = ""

    @property
    def paths(self) -> Home:
        return resolve_home({**os.environ, HOME_ENV: self.home} if self.home else None).ensure()

    @property
    def store(self) -> ArtifactStore:
        return artifact_store(self.paths)
