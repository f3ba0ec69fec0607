"""DuckDB connections are capped at PAPERLAKE_DUCKDB_MEMORY and spill beyond it; they use the
threads PAPERLAKE_DUCKDB_THREADS or the process's share of the cores gives them."""

from __future__ import annotations

from dataclasses import replace

import duckdb
import pyarrow as pa
import pytest

from pipeline import search, warehouse
from pipeline.duckdb_limits import DEFAULT_MEMORY, MEMORY_ENV, THREADS_ENV, cores_share


def _shown(limit: str) -> str:
    """``limit`` as DuckDB shows a memory_limit setting."""
    with duckdb.connect(config={"memory_limit": limit}) as con:
        return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


@pytest.fixture
def fresh_connections():
    """Warehouse connections are kept per process; these tests open their own."""
    warehouse.close_databases()
    yield
    warehouse.close_databases()


def test_warehouse_sessions_are_capped_by_default(home, fresh_connections, monkeypatch):
    monkeypatch.delenv(MEMORY_ENV, raising=False)
    with warehouse.session(home) as con:
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert limit == _shown(DEFAULT_MEMORY)


def test_the_cap_is_set_by_the_environment(home, fresh_connections, monkeypatch):
    monkeypatch.setenv(MEMORY_ENV, "512MB")
    with warehouse.session(home) as con:
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert limit == _shown("512MB")


def test_work_beyond_the_cap_spills_into_the_homes_cache(home, fresh_connections, monkeypatch):
    """A fresh home has no cache folder yet; the first spill must not fail for want of it."""
    monkeypatch.setenv(MEMORY_ENV, "64MB")
    assert not (home.root / "cache").exists()
    with warehouse.session(home) as con:
        con.execute("SET threads = 1")
        largest = con.execute(
            "SELECT max(n) FROM (SELECT n, md5(n::VARCHAR) AS h FROM range(3000000) t(n) "
            "ORDER BY h)"
        ).fetchone()
    assert largest == (2999999,)
    assert (home.root / "cache" / "duckdb").is_dir()


def test_a_cap_that_is_no_size_is_refused_with_the_way_to_write_it(
    home, fresh_connections, monkeypatch
):
    monkeypatch.setenv(MEMORY_ENV, "plenty")
    refused = f"{MEMORY_ENV}='plenty'.*e.g. {MEMORY_ENV}=4GB"
    with pytest.raises(ValueError, match=refused), warehouse.session(home):
        pass


def test_search_segments_are_built_under_the_cap(home, monkeypatch):
    docs = pa.table({"paper_id": ["p1"], "title": ["Graph networks"], "abstract": ["On graphs."]})
    files = search.segment_files(home)
    fts = warehouse.extension_path(*warehouse.FTS)
    monkeypatch.setenv(MEMORY_ENV, "plenty")
    with pytest.raises(ValueError, match=MEMORY_ENV):
        search._build_segment(files, 1, docs, fts, None)
    monkeypatch.setenv(MEMORY_ENV, "64MB")
    segment = search._build_segment(files, 1, docs, fts, None)
    assert files.path(segment).exists()


def _threads(con) -> int:
    return con.execute("SELECT current_setting('threads')").fetchone()[0]


def test_a_process_sharing_the_cores_opens_the_warehouse_with_its_share(
    home, fresh_connections, monkeypatch
):
    monkeypatch.delenv(THREADS_ENV, raising=False)
    with warehouse.session(replace(home, duckdb_threads=1)) as con:
        assert _threads(con) == 1


def test_the_environment_sets_the_threads_over_any_share(home, fresh_connections, monkeypatch):
    monkeypatch.setenv(THREADS_ENV, "3")
    with warehouse.session(replace(home, duckdb_threads=1)) as con:
        assert _threads(con) == 3


def test_threads_that_are_no_number_are_refused_with_the_way_to_write_them(
    home, fresh_connections, monkeypatch
):
    monkeypatch.setenv(THREADS_ENV, "0")
    with pytest.raises(ValueError, match=f"{THREADS_ENV}='0'.*e.g. {THREADS_ENV}=1"):
        warehouse.session(home).__enter__()


def test_the_cores_are_shared_evenly_and_a_lone_process_keeps_them_all():
    assert cores_share(1, 2) is None
    assert cores_share(2, 2) == 1
    assert cores_share(2, 8) == 4
    assert cores_share(3, 2) == 1
