"""Where the warehouse lives: its DuckLake catalog and its data files.

Embedded (the default): a SQLite catalog and Parquet data files under ``$PAPERLAKE_HOME/warehouse``.
Shared by several machines: a PostgreSQL catalog (``PAPERLAKE_CATALOG``) and data files on an
S3-compatible object store (``PAPERLAKE_DATA_PATH``), so writers anywhere commit safely::

    PAPERLAKE_CATALOG="postgres:dbname=paperlake host=db.internal user=paperlake"
    PAPERLAKE_DATA_PATH="s3://paperlake/warehouse/"
    PAPERLAKE_S3_ENDPOINT="minio.internal:9000"   # only for a non-AWS S3 server
    AWS_ACCESS_KEY_ID=…  AWS_SECRET_ACCESS_KEY=…  AWS_REGION=…

Every process that reads or writes the warehouse must see the same settings.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pipeline.home import Home
from pipeline.storage import S3Settings, is_object_store

CATALOG_ENV = "PAPERLAKE_CATALOG"
DATA_PATH_ENV = "PAPERLAKE_DATA_PATH"

_SQLITE = ("duckdb_extension_sqlite_scanner", "sqlite_scanner")
_POSTGRES = ("duckdb_extension_postgres_scanner", "postgres_scanner")
_HTTPFS = ("duckdb_extension_httpfs", "httpfs")


@dataclass(frozen=True)
class LakeLocation:
    """A DuckLake catalog (its metadata connection string) and the data files' root."""

    metadata: str
    data_path: str
    env: Mapping[str, str]
    # the catalog and the data files both live in the paperlake home, which may be moved
    in_home: bool = False

    @property
    def catalog_kind(self) -> str:
        return self.metadata.split(":", 1)[0]

    @property
    def sqlite_file(self) -> Path | None:
        """The SQLite catalog file of an embedded warehouse."""
        return Path(self.metadata.split(":", 1)[1]) if self.catalog_kind == "sqlite" else None

    @property
    def data_on_object_store(self) -> bool:
        return is_object_store(self.data_path)

    def describe(self) -> str:
        return f"{self.metadata} (data in {self.data_path})"

    def extensions(self) -> list[tuple[str, str]]:
        """DuckDB extension packages this location needs, besides DuckLake itself."""
        needed = [_SQLITE] if self.catalog_kind == "sqlite" else [_POSTGRES]
        if self.data_on_object_store:
            needed.append(_HTTPFS)
        return needed

    def may_exist(self) -> bool:
        """False when the warehouse surely does not exist yet: an embedded catalog not yet
        created, or created by a first run that was stopped before DuckLake set it up; a remote
        catalog is only known by attaching it. Reads the file with Python's sqlite3: not while
        a DuckDB connection of this process has it open (``warehouse.exists`` knows)."""
        if self.sqlite_file is None:
            return True
        if not self.sqlite_file.exists():
            return False
        with contextlib.closing(
            sqlite3.connect(f"{self.sqlite_file.as_uri()}?mode=ro", uri=True)
        ) as catalog:
            found = catalog.execute(
                "SELECT count(*) FROM sqlite_master WHERE name = 'ducklake_metadata'"
            ).fetchone()
        return found[0] > 0

    def prepare(self) -> None:
        """Create what a writer needs before attaching: the embedded catalog in WAL mode."""
        if self.sqlite_file is None:
            return
        Path(self.data_path).mkdir(parents=True, exist_ok=True)
        if not self.sqlite_file.exists():
            self.sqlite_file.parent.mkdir(parents=True, exist_ok=True)
            with sqlite3.connect(self.sqlite_file) as catalog:
                catalog.execute("PRAGMA journal_mode=WAL")

    def secret_sql(self) -> str | None:
        """``CREATE SECRET`` for the object store holding the data files (credentials from the
        standard AWS variables), or None for local data files."""
        if not self.data_on_object_store:
            return None
        s3 = S3Settings.from_env(self.env)
        options: dict[str, str | bool] = {
            "TYPE": "s3",
            "KEY_ID": s3.key_id,
            "SECRET": s3.secret,
            "REGION": s3.region,
        }
        if s3.endpoint:
            options |= {"ENDPOINT": s3.endpoint, "URL_STYLE": "path", "USE_SSL": s3.use_ssl}
        rendered = ", ".join(
            f"{key} {str(value).lower() if isinstance(value, bool) else _quote(value)}"
            for key, value in options.items()
        )
        return f"CREATE OR REPLACE SECRET paperlake_data ({rendered})"


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def lake_location(home: Home, env: Mapping[str, str] | None = None) -> LakeLocation:
    """The warehouse location configured by the environment, else the embedded one in ``home``."""
    env = dict(os.environ if env is None else env)
    configured_metadata = env.get(CATALOG_ENV, "").strip()
    metadata = configured_metadata or f"sqlite:{home.catalog}"
    if metadata.split(":", 1)[0] not in ("sqlite", "postgres"):
        raise ValueError(
            f"{CATALOG_ENV}={metadata!r}: expected 'sqlite:PATH' or 'postgres:CONNECTION' "
            "(e.g. postgres:dbname=paperlake host=127.0.0.1 user=postgres)"
        )
    configured_data_path = env.get(DATA_PATH_ENV, "").strip()
    data_path = configured_data_path or str(home.warehouse_data)
    in_home = not configured_metadata and not configured_data_path
    return LakeLocation(metadata, data_path.rstrip("/") + "/", env, in_home)
