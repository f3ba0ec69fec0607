"""The DuckLake warehouse: connections, schema, and loading a snapshot.

By default the catalog is a SQLite file in WAL mode and the data files are Parquet, both under
``$PAPERLAKE_HOME/warehouse``; ``pipeline.lake`` describes the shared alternative (PostgreSQL
catalog, object-store data). Readers and one writer work at the same time; readers see
committed snapshots only. DuckDB extensions are loaded from their PyPI packages, never
downloaded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import math
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import polars as pl
import pyarrow as pa

from pipeline import locks, related, search
from pipeline.artifacts import ArtifactStore
from pipeline.duckdb_limits import duckdb_config
from pipeline.home import REPO_ROOT, Home
from pipeline.identity import (
    TITLE_SIMILARITY,
    KnownPaper,
    could_be,
    normalized_title,
    resolve_ids,
)
from pipeline.lake import LakeLocation, lake_location
from pipeline.schemas import ARTIFACT_VERSIONS

log = logging.getLogger("paperlake")
SQL_DIR = REPO_ROOT / "warehouse"
# Bump when load_snapshot.sql or keyword_trends.sql change what a load writes.
LOAD_VERSION = "4"
# Rising/falling keywords: each snapshot against its trailing window of earlier snapshots.
TREND_PARAMETERS = {"window": 7, "prior": 1000.0, "min_support": 3}
CATALOG_ALIAS = "lake"
FTS = ("duckdb_extension_fts", "fts")
DUCKLAKE = ("duckdb_extension_ducklake", "ducklake")
# Held by every writer session: one warehouse writer at a time.
WRITER_LOCK = "writer"
# The term index's tables: a large snapshot rewrites term_stats and indexed_papers in every
# chunk, so they are compacted every COMPACT_EVERY chunks while it is indexed.
TERM_INDEX = ("term_stats", "indexed_papers", "paper_terms")
COMPACT_EVERY = 25
_LOCKED = ("database is locked", "database is busy", "could not commit", "conflict")
T = TypeVar("T")


class WarehouseMissingError(RuntimeError):
    """Raised when reading a warehouse that has not been created yet."""


def extension_path(package: str, name: str) -> Path:
    """The extension binary shipped in ``package`` for the installed DuckDB version."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"DuckDB extension package {package!r} is not installed")
    root = Path(next(iter(spec.submodule_search_locations)))
    path = root / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.exists():
        raise RuntimeError(f"{package} has no {name} extension for DuckDB {duckdb.__version__}")
    return path


def sql_statements(name: str) -> list[str]:
    """The statements of ``warehouse/<name>``, split at semicolons that end a line."""
    text = (SQL_DIR / name).read_text(encoding="utf-8")
    statements = (_strip_comments(s) for s in re.split(r";[ \t]*(?:\n|$)", text))
    return [s for s in statements if s]


def _strip_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--")).strip()


def schema_fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("schema.sql", "views.sql"):
        digest.update((SQL_DIR / name).read_bytes())
    return digest.hexdigest()[:16]


def is_lock_error(error: BaseException) -> bool:
    return isinstance(error, duckdb.Error) and any(m in str(error).lower() for m in _LOCKED)


def with_retry(action: Callable[[], T], attempts: int = 8, first_delay: float = 0.2) -> T:
    """Run ``action``, retrying with exponential backoff while the catalog reports a lock."""
    for attempt in range(attempts):
        try:
            return action()
        except duckdb.Error as error:
            if not is_lock_error(error) or attempt == attempts - 1:
                raise
            time.sleep(first_delay * 2**attempt)
    raise AssertionError("unreachable")


# One DuckDB database per (catalog, read-only) in a process, with the extensions loaded and the
# warehouse attached; connections are cursors on it, so a run's steps do not pay for that again.
_DATABASES: dict[tuple[Path, bool], duckdb.DuckDBPyConnection] = {}


def close_databases() -> None:
    """Close the databases this process keeps open; the next connection opens its database
    (and attaches the warehouse) again, as a new process would."""
    while _DATABASES:
        _DATABASES.popitem()[1].close()


def connect(
    home: Home, *, read_only: bool = False, as_of: str | None = None, search: bool = True
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the warehouse attached as ``lake`` and selected.

    A writer connection creates the warehouse on first use and brings its schema up to date.
    A reader also has the full-text search segments attached, with the ``search_papers`` and
    ``search_best`` macros, unless ``search`` is False (attaching them costs a few
    milliseconds per segment, which pipeline steps that do not search need not pay).
    ``as_of`` (read-only) attaches the warehouse as it was at a warehouse version (a number from
    ``paperlake versions warehouse``) or a time (ISO 8601, e.g. ``2026-11-26 08:00+00``).
    """
    if as_of is not None and not read_only:
        raise ValueError("as_of needs a read-only connection")
    location = lake_location(home)
    if read_only and not _may_exist(location):
        raise WarehouseMissingError(
            f"no warehouse at {home.warehouse} yet; ingest a dump first "
            "(`paperlake ingest FILE` or `paperlake demo`)"
        )
    if as_of is not None:
        con = _open(home, location, read_only, as_of)
    else:
        key = (location.metadata, location.data_path, read_only)
        if key not in _DATABASES:
            _DATABASES[key] = _open(home, location, read_only, None)
        con = _DATABASES[key].cursor()
    try:
        con.execute(f"USE {CATALOG_ALIAS}")
        if read_only and search:
            _attach_search(con, home)
    except BaseException:
        con.close()
        raise
    return con


def exists(home: Home) -> bool:
    """False when ``home`` surely has no warehouse yet (see ``LakeLocation.may_exist``)."""
    return _may_exist(lake_location(home))


def _may_exist(location: LakeLocation) -> bool:
    # A database this process keeps open has the catalog attached, so it exists. Probing the
    # file then (with Python's sqlite3, another copy of SQLite) would, when the probe closes,
    # release every POSIX lock this process holds on it, DuckLake's connection's included, and
    # another process could reset the catalog's WAL index under that connection.
    if any(metadata == location.metadata for metadata, _, _ in _DATABASES):
        return True
    return location.may_exist()


def _open(
    home: Home, location: LakeLocation, read_only: bool, as_of: str | None
) -> duckdb.DuckDBPyConnection:
    # large joins and sorts spill here rather than into the working directory (DuckDB creates
    # only the last level of the path, when it first spills)
    spill = home.root / "cache" / "duckdb"
    spill.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "temp_directory": str(spill),
            **duckdb_config(home.duckdb_threads),
        }
    )
    try:
        for package, name in [*location.extensions(), DUCKLAKE, FTS]:
            con.execute(f"LOAD '{extension_path(package, name)}'")
        secret = location.secret_sql()
        if secret:
            con.execute(secret)
        if not read_only:
            location.prepare()
        options = f"DATA_PATH '{location.data_path}'" + (", READ_ONLY" if read_only else "")
        if location.in_home:
            # the catalog keeps the path it was created with; a home that was moved (or
            # restored elsewhere) holds its data files where the home is now
            options += ", OVERRIDE_DATA_PATH true"
        if as_of is not None:
            options += _time_travel_option(as_of)
        try:
            with_retry(
                lambda: con.execute(
                    f"ATTACH 'ducklake:{location.metadata}' AS {CATALOG_ALIAS} ({options})"
                )
            )
        except duckdb.InvalidInputException as error:
            if as_of is None or "No snapshot found" not in str(error):
                raise
            raise ValueError(
                f"the warehouse has no version {as_of!r} (any more): versions older than "
                f"{RETENTION_ENV} (default {DEFAULT_RETENTION_DAYS} days) are expired by the "
                "weekly maintenance; `paperlake versions warehouse` lists the kept ones"
            ) from None
        con.execute(f"USE {CATALOG_ALIAS}")
        if not read_only:
            with exclusive(home, WRITER_LOCK):
                with_retry(lambda: _apply_schema(con))
        elif not _has_schema(con):
            # a first run that was stopped before its schema committed leaves an empty catalog
            raise WarehouseMissingError(
                f"the warehouse in {location.describe()} has no tables yet; ingest a dump first "
                "(`paperlake ingest FILE` or `paperlake demo`)"
            )
    except BaseException:
        con.close()
        raise
    return con


def _time_travel_option(as_of: str) -> str:
    text = as_of.strip()
    if text.isdigit():
        return f", SNAPSHOT_VERSION {int(text)}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"--as-of {as_of!r} is neither a warehouse version number nor an ISO time "
            "(e.g. 2026-11-26T08:00:00+00:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()
    return f", SNAPSHOT_TIME '{moment.isoformat()}'"


@contextmanager
def session(
    home: Home, *, read_only: bool = False, as_of: str | None = None, search: bool = True
) -> Iterator[duckdb.DuckDBPyConnection]:
    """``connect`` as a context manager that closes the connection. A writer session holds the
    warehouse's writer lock from start to end, so a writer's reads and its writes see no other
    writer's changes in between; readers never wait."""
    # opening and attaching take a while the first time in a process: outside the lock
    con = connect(home, read_only=read_only, as_of=as_of, search=search)
    try:
        if read_only:
            yield con
            return
        with exclusive(home, WRITER_LOCK):
            yield con
    finally:
        con.close()


def _attach_search(con: duckdb.DuckDBPyConnection, home: Home) -> None:
    search.attach(con, search.segment_files(home), extension_path(*FTS))


def exclusive(home: Home, name: str) -> AbstractContextManager[None]:
    """The warehouse's lock ``name``, held across processes and machines (``pipeline.locks``)."""
    return locks.exclusive(lake_location(home), name)


def _has_schema(con: duckdb.DuckDBPyConnection) -> bool:
    tables = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_catalog = ? AND table_name = 'schema_info'",
        [CATALOG_ALIAS],
    ).fetchone()[0]
    return bool(tables) and con.execute("SELECT count(*) FROM schema_info").fetchone()[0] > 0


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, tables: dict[str, pa.Table]) -> Iterator[None]:
    """``tables`` registered as views of ``con`` while the block runs."""
    for view, table in tables.items():
        con.register(view, table)
    try:
        yield
    finally:
        for view in tables:
            con.unregister(view)


@contextmanager
def transaction(
    con: duckdb.DuckDBPyConnection, inputs: dict[str, pa.Table] | None = None
) -> Iterator[None]:
    """One warehouse transaction: ``inputs`` registered as views for its statements, committed
    when the block ends, rolled back if it raises."""
    with registered(con, inputs or {}):
        con.execute("BEGIN")
        try:
            yield
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise


def _apply_schema(con: duckdb.DuckDBPyConnection) -> None:
    fingerprint = schema_fingerprint()
    con.execute("CREATE TABLE IF NOT EXISTS schema_info (fingerprint VARCHAR NOT NULL)")
    current = con.execute("SELECT max(fingerprint) FROM schema_info").fetchone()
    if current and current[0] == fingerprint:
        return
    start = time.perf_counter()
    if current and current[0] is not None:
        log.info("bringing the warehouse's tables and views up to date (once after an upgrade)")
    with transaction(con):
        rewritten = _migrate(con)
        for statement in sql_statements("schema.sql") + sql_statements("views.sql"):
            con.execute(statement)
        con.execute("DELETE FROM schema_info")
        con.execute("INSERT INTO schema_info VALUES (?)", [fingerprint])
    # a migration rewrites every row of a table it adds a column to, leaving a delete file
    compact(con, sorted(rewritten))
    if rewritten:
        log.info(
            "rewrote %s for the new layout in %.1f s",
            ", ".join(sorted(rewritten)),
            time.perf_counter() - start,
        )


def _migrate(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Bring a warehouse written by earlier versions to the current layout, keeping its data:
    related papers used to be a table with a stored rank (now the related_papers view ranks the
    related_edges table); papers had no abstract MD5, title block keys or paper key; the term
    index had no term or paper keys, indexed papers no top or last scores, term statistics kept
    each term's text, keyword trends had no display forms, keyword statistics and texts were one
    table. Returns the tables whose rows were rewritten."""
    rewritten: set[str] = set()
    columns = {
        (table, column)
        for table, column in con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() "
            "JOIN duckdb_tables() USING (database_name, schema_name, table_name) "
            "WHERE database_name = current_database()"
        ).fetchall()
    }
    if ("related_papers", "rank") in columns:
        con.execute("ALTER TABLE related_papers RENAME TO related_edges")
        con.execute("ALTER TABLE related_edges DROP COLUMN rank")
        columns |= {
            ("related_edges", column) for table, column in columns if table == "related_papers"
        }
    if ("papers", "paper_id") in columns and ("papers", "abstract_md5") not in columns:
        con.execute("ALTER TABLE papers ADD COLUMN abstract_md5 UBIGINT")
        con.execute("UPDATE papers SET abstract_md5 = md5_number_lower(abstract)")
        rewritten.add("papers")
    if ("papers", "paper_id") in columns and ("papers", "title_head") not in columns:
        con.execute("ALTER TABLE papers ADD COLUMN title_head UBIGINT")
        con.execute("ALTER TABLE papers ADD COLUMN title_tail UBIGINT")
        con.execute(
            "UPDATE papers SET title_head = md5_number_lower(left(title_key, 12)), "
            "title_tail = md5_number_lower(right(title_key, 12))"
        )
        rewritten.add("papers")
    if ("papers", "paper_id") in columns and ("papers", "paper_key") not in columns:
        con.execute("ALTER TABLE papers ADD COLUMN paper_key UBIGINT")
        con.execute("UPDATE papers SET paper_key = md5_number_lower(paper_id)")
        rewritten.add("papers")
    for table in ("paper_terms", "term_stats"):
        if (table, "term") in columns and (table, "term_key") not in columns:
            con.execute(f"ALTER TABLE {table} ADD COLUMN term_key UBIGINT")
            con.execute(f"UPDATE {table} SET term_key = md5_number_lower(term)")
            rewritten.add(table)
    for table in ("paper_terms", "indexed_papers", "related_edges"):
        if (table, "paper_id") in columns and (table, "paper_key") not in columns:
            con.execute(f"ALTER TABLE {table} ADD COLUMN paper_key UBIGINT")
            con.execute(f"UPDATE {table} SET paper_key = md5_number_lower(paper_id)")
            rewritten.add(table)
    if ("indexed_papers", "paper_id") in columns and (
        "indexed_papers",
        "top_scores",
    ) not in columns:
        con.execute("ALTER TABLE indexed_papers ADD COLUMN top_scores DOUBLE[]")
        con.execute("UPDATE indexed_papers SET top_scores = []")
        con.execute(
            """
            UPDATE indexed_papers SET top_scores = e.top_scores
            FROM (
                SELECT paper_id, list(score ORDER BY score DESC)[1:$neighbours] AS top_scores
                FROM related_edges GROUP BY paper_id
            ) e
            WHERE indexed_papers.paper_id = e.paper_id
            """,
            {"neighbours": related.NEIGHBOURS},
        )
        rewritten.add("indexed_papers")
    if ("indexed_papers", "paper_id") in columns and (
        "indexed_papers",
        "last_score",
    ) not in columns:
        con.execute("ALTER TABLE indexed_papers ADD COLUMN last_score DOUBLE")
        con.execute(
            "UPDATE indexed_papers SET last_score = top_scores[$neighbours]",
            {"neighbours": related.NEIGHBOURS},
        )
        rewritten.add("indexed_papers")
    if ("term_stats", "term") in columns:
        con.execute("ALTER TABLE term_stats DROP COLUMN term")
    if ("keyword_trends", "keyphrase") in columns and ("keyword_trends", "display") not in columns:
        con.execute("ALTER TABLE keyword_trends ADD COLUMN display VARCHAR")
        # the corpus-wide form stands in for the forms each snapshot wrote
        con.execute(
            "UPDATE keyword_trends SET display = k.display FROM keywords k "
            "WHERE keyword_trends.keyphrase = k.keyphrase"
        )
        con.execute("UPDATE keyword_trends SET display = keyphrase WHERE display IS NULL")
        rewritten.add("keyword_trends")
    if ("keywords", "doc_freq") in columns:
        # one table until the statistics and the texts were kept apart (the keywords view); the
        # schema's statements are idempotent, so they create the two tables here
        for statement in sql_statements("schema.sql"):
            con.execute(statement)
        con.execute(
            "INSERT INTO keyword_stats BY NAME SELECT doc_freq, first_seen, last_seen, "
            "md5_number_lower(keyphrase) AS keyphrase_key FROM keywords"
        )
        con.execute(
            "INSERT INTO keyword_forms BY NAME SELECT keyphrase, display, "
            "md5_number_lower(keyphrase) AS keyphrase_key FROM keywords"
        )
        con.execute("DROP TABLE keywords")
    return rewritten


def commit_message(
    con: duckdb.DuckDBPyConnection, message: str, extra_info: str | None = None
) -> None:
    """Label the open transaction's warehouse snapshot (shown by ``paperlake versions warehouse``);
    ``extra_info`` is stored beside the message for code to find the commit by."""
    con.execute(
        f"CALL {CATALOG_ALIAS}.set_commit_message('paperlake', ?, extra_info => ?)",
        [message, extra_info],
    )


def _load_commit_info(snapshot_id: str) -> str:
    """The commit extra info of a load of ``snapshot_id`` (see ``snapshot_papers``)."""
    return json.dumps({"loaded_snapshot": snapshot_id})


def run_script(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> None:
    """Execute ``warehouse/<name>``, passing each statement the parameters it names."""
    for statement in sql_statements(name):
        used = {key: params[key] for key in re.findall(r"\$(\w+)", statement)}
        con.execute(statement, used or None)


def known_papers(con: duckdb.DuckDBPyConnection, incoming: pa.Table) -> dict[str, list[KnownPaper]]:
    """Known papers each incoming paper could be (see ``warehouse/known_papers.sql`` and
    ``identity.could_be``), with their stored abstracts. ``incoming`` has ``paper_id``,
    ``arxiv_id``, ``title_key`` and ``abstract``."""
    [statement] = sql_statements("known_papers.sql")
    with registered(con, {"incoming": incoming}):
        found = con.execute(statement, {"title_similarity": TITLE_SIMILARITY}).to_arrow_table()
    if found.num_rows == 0:
        return {}
    # a bulk load brings a million papers, most of them unknown, and a shared title block finds
    # many that are not the paper: both are sorted out here, before any Python objects are made
    pairs = pl.from_arrow(found).join(
        pl.from_arrow(incoming.select(["paper_id", "arxiv_id", "title_key", "abstract"])).rename(
            lambda name: f"incoming_{name}" if name != "paper_id" else "incoming_id"
        ),
        on="incoming_id",
    )
    pairs = pairs.filter(could_be(pairs)).sort("incoming_id", "paper_id")
    # (incoming id, known paper without its abstract, the abstract when the MD5 says it is the
    # incoming text unchanged); the others are read from the warehouse below
    candidates = [
        (
            row["incoming_id"],
            KnownPaper(row["paper_id"], row["arxiv_id"], row["title_key"], None),
            row["incoming_abstract"] if row["same_abstract"] else None,
        )
        for row in pairs.iter_rows(named=True)
    ]
    stored = _abstracts(con, sorted({p.paper_id for _, p, text in candidates if text is None}))
    known: dict[str, list[KnownPaper]] = {}
    for incoming_id, paper, text in candidates:
        abstract = text if text is not None else stored.get(paper.paper_id)
        known.setdefault(incoming_id, []).append(replace(paper, abstract=abstract))
    return known


# A constant id list is filtered inside the scan, so only matching rows' text is decoded; its
# cost grows with ids x rows, so longer lists are joined instead (which decodes every row).
ID_LIST_MAX = 500
# The papers whose ids are in the list $ids, matched by their 64-bit keys: the scan compares a
# million keys in about half the time it compares a million ids (33 vs 63 ms at 1,000,000
# papers). Keys of different ids collide improbably; a colliding row has another id, which the
# callers' joins and lookups by id leave out.
PAPERS_WITH_IDS = (
    "SELECT {columns} FROM papers "
    "WHERE list_contains(list_transform($ids, id -> md5_number_lower(id)), paper_key)"
)


def _abstracts(con: duckdb.DuckDBPyConnection, paper_ids: list[str]) -> dict[str, str | None]:
    if not paper_ids:
        return {}
    if len(paper_ids) <= ID_LIST_MAX:
        sql = PAPERS_WITH_IDS.format(columns="paper_id, abstract")
        return dict(con.execute(sql, {"ids": paper_ids}).fetchall())
    wanted = pa.table({"paper_id": pa.array(paper_ids, pa.string())})
    with registered(con, {"wanted": wanted}):
        sql = "SELECT paper_id, abstract FROM papers JOIN wanted USING (paper_id)"
        return dict(con.execute(sql).fetchall())


def with_title_keys(papers: pa.Table) -> pa.Table:
    """``papers`` with a ``title_key`` column (``identity.normalized_title``); the other columns
    are shared, not copied."""
    titles = pl.from_arrow(papers.select(["title"]))
    keys = titles.select(normalized_title(pl.col("title")).alias("title_key")).to_arrow()
    return papers.append_column("title_key", keys["title_key"])


def resolve_snapshot_ids(con: duckdb.DuckDBPyConnection, papers: pa.Table) -> dict[str, str]:
    """Incoming paper ids that must change to match papers the warehouse already knows
    (``papers`` as ``with_title_keys`` returns them)."""
    incoming = papers.select(["paper_id", "arxiv_id", "title_key", "abstract"])
    known = known_papers(con, incoming)
    if not known:
        return {}
    return resolve_ids(pl.from_arrow(incoming), known)


def with_ids(table: pa.Table, mapping: dict[str, str]) -> pa.Table:
    """``table`` with its ``paper_id`` column rewritten through ``mapping``."""
    if not mapping:
        return table
    frame = pl.from_arrow(table).with_columns(pl.col("paper_id").replace(mapping))
    return frame.to_arrow().cast(table.schema)


def load_snapshot(
    con: duckdb.DuckDBPyConnection,
    snapshot: pa.Table,
    papers: pa.Table,
    keywords: pa.Table,
    links: pa.Table,
) -> dict[str, str]:
    """Replace one snapshot's rows in every table, in one transaction (retried while locked).

    Paper ids are first resolved against the papers already known; returns the ids that
    changed (incoming id -> stored id).
    """
    snapshot_id = snapshot.column("snapshot_id")[0].as_py()
    keyed = with_title_keys(papers)

    def attempt() -> dict[str, str]:
        mapping = resolve_snapshot_ids(con, keyed)
        inputs = {
            "new_snapshot": snapshot,
            "new_papers": with_ids(keyed, mapping),
            "new_keywords": with_ids(keywords, mapping),
            "new_links": with_ids(links, mapping),
        }
        with transaction(con, inputs):
            run_script(
                con, "load_snapshot.sql", {"snapshot_id": snapshot_id, "id_list_max": ID_LIST_MAX}
            )
            if con.execute("SELECT count(*) FROM replaced_keywords").fetchone()[0]:
                run_script(con, "refresh_keyword_dates.sql", {})
            if con.execute("SELECT count(*) FROM orphans").fetchone()[0]:
                _drop_orphans(con)
            run_script(con, "keyword_trends.sql", {"snapshot_id": snapshot_id, **TREND_PARAMETERS})
            version = snapshot.column("version")[0].as_py()
            commit_message(
                con,
                f"load {snapshot_id} (papers {version[:12]})",
                _load_commit_info(snapshot_id),
            )
        return mapping

    return with_retry(attempt)


def _drop_orphans(con: duckdb.DuckDBPyConnection) -> None:
    """Run drop_orphans.sql for the papers the load left unlisted (its ``orphans`` table), with
    their terms as their stored text reads (what indexing them counted)."""
    stored = con.execute(
        "SELECT paper_id, title, abstract FROM papers "
        "WHERE paper_id IN (SELECT paper_id FROM orphans)"
    ).to_arrow_table()
    leaving = related.term_counts(stored).select(["paper_id", "term"])
    with registered(con, {"leaving_terms": leaving}):
        run_script(con, "drop_orphans.sql", {"neighbours": related.NEIGHBOURS})


def snapshot_papers(con: duckdb.DuckDBPyConnection, snapshot_id: str) -> pa.Table:
    """``paper_id, title, abstract`` of a loaded snapshot's papers, under their stored ids and
    as its latest load stored them (a later snapshot may have changed a text since).

    The load writes every paper it lists, so its rows are read from DuckLake's change feed for
    that one commit, at a cost that does not grow with history (joining ``papers`` would decode
    every stored abstract). Where the feed does not hold them all (the load commit expired, was
    compacted away, or predates labelled loads) ``papers`` is joined instead.
    """
    query = (
        "SELECT p.paper_id, p.title, p.abstract FROM listings l JOIN {papers} p USING (paper_id) "
        "WHERE l.snapshot_id = $snapshot_id ORDER BY l.rank"
    )
    load, listed = con.execute(
        f"SELECT (SELECT max(snapshot_id) FROM {CATALOG_ALIAS}.snapshots() "
        "WHERE commit_extra_info = $info), "
        "(SELECT count(*) FROM listings WHERE snapshot_id = $snapshot_id)",
        {"info": _load_commit_info(snapshot_id), "snapshot_id": snapshot_id},
    ).fetchone()
    if load is not None:
        feed = f"{CATALOG_ALIAS}.table_insertions('papers', $load, $load)"
        papers = con.execute(
            query.format(papers=feed), {"snapshot_id": snapshot_id, "load": load}
        ).to_arrow_table()
        if papers.num_rows == listed:
            return papers
    return con.execute(query.format(papers="papers"), {"snapshot_id": snapshot_id}).to_arrow_table()


def index_related(
    con: duckdb.DuckDBPyConnection,
    snapshot_id: str,
    *,
    chunk_papers: int = related.CHUNK_PAPERS,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Index a loaded snapshot's not yet indexed papers and link them to their nearest
    neighbours (settings from ``pipeline.related``); returns how many papers were newly indexed.

    Papers are indexed ``chunk_papers`` at a time (in paper id order), one transaction each, as
    if they had arrived in snapshots of that size: memory stays bounded for a dump of any size,
    and an interrupted run resumes where it stopped (papers indexed already are left out before
    the chunks are cut, so a re-run does no work for them). Every ``COMPACT_EVERY`` chunks the term
    index is compacted, so later chunks do not read ever more files; after the last chunk the
    term index and the edges are. ``progress(done, total)`` is called after
    each chunk with the snapshot's papers handled so far.
    """
    params = {
        "snapshot_id": snapshot_id,
        "terms_per_paper": related.TERMS_PER_PAPER,
        "neighbours": related.NEIGHBOURS,
        "common_share": related.COMMON_SHARE,
        "max_postings": related.MAX_POSTINGS,
    }
    papers = pl.from_arrow(snapshot_papers(con, snapshot_id))
    paper_ids = papers["paper_id"].unique().sort()
    indexed = _indexed(con, paper_ids)
    todo = paper_ids.filter(~paper_ids.is_in(indexed.implode()))
    chunks = [todo[i : i + chunk_papers] for i in range(0, len(todo), chunk_papers)]

    def attempt(index: int, chunk: pl.Series) -> int:
        members = papers.filter(pl.col("paper_id").is_in(chunk.implode()))
        chunk_terms = related.term_counts(members.to_arrow())
        with transaction(con, {"new_terms": chunk_terms}):
            run_script(con, "related_papers.sql", params)
            fresh = con.execute("SELECT count(*) FROM fresh").fetchone()[0]
            part = f", part {index + 1} of {len(chunks)}" if len(chunks) > 1 else ""
            commit_message(con, f"related papers for {snapshot_id} ({fresh} new{part})")
        return fresh

    fresh_total, done = 0, len(indexed)
    for index, chunk in enumerate(chunks):
        fresh_total += with_retry(lambda index=index, chunk=chunk: attempt(index, chunk))
        done += len(chunk)
        if len(chunks) > 1 and (index + 1) % COMPACT_EVERY == 0 and index + 1 < len(chunks):
            compact(con, TERM_INDEX)
        if progress is not None:
            progress(done, len(paper_ids))
    if len(chunks) > 1:
        compact(con, (*TERM_INDEX, "related_edges"))
    return fresh_total


def _indexed(con: duckdb.DuckDBPyConnection, paper_ids: pl.Series) -> pl.Series:
    """Which of ``paper_ids`` the related-papers index holds already (by key: a scan of one
    64-bit column)."""
    wanted = pa.table({"paper_id": paper_ids.to_arrow()})
    with registered(con, {"wanted": wanted}):
        found = con.execute(
            "SELECT paper_id FROM wanted WHERE md5_number_lower(paper_id) IN "
            "(SELECT paper_key FROM indexed_papers)"
        ).to_arrow_table()
    return pl.Series("paper_id", found["paper_id"], dtype=pl.String)


NOTHING_TO_COMPACT = "nothing to compact: every table is one file without deletes"


@dataclass(frozen=True)
class Compaction:
    """One table's data files before and after ``compact``."""

    table: str
    files_before: int
    files_after: int
    seconds: float

    def describe(self) -> str:
        return (
            f"{self.table}: {self.files_before:,} data files -> {self.files_after:,} "
            f"({self.seconds:.1f} s)"
        )


def compact(
    con: duckdb.DuckDBPyConnection, tables: Iterable[str] | None = None
) -> list[Compaction]:
    """Rewrite the data files of ``tables`` (default: every warehouse table) that have deleted
    rows without them, then merge small files into larger ones; returns what changed per table.

    Every update leaves a delete file beside the data files it touched, and every insert a new
    small file; a scan reads them all, so without compaction the daily load of a warehouse
    gets slower with each day it has seen. Compaction keeps every warehouse version readable
    (DuckLake's merged files still serve time travel and the change feed); the files it
    replaces stay on disk for those versions. Tables with one file and no deletes are skipped.
    """
    done = []
    for table in table_names(con) if tables is None else tables:
        before, deletes = file_counts(con, table)
        if before <= 1 and not deletes:
            continue
        start = time.perf_counter()
        # two commits: the merge sees the files the rewrite made only once they are committed
        if deletes:
            with transaction(con):
                con.execute(
                    f"CALL ducklake_rewrite_data_files('{CATALOG_ALIAS}', ?, "
                    "delete_threshold => 0.0)",
                    [table],
                )
                commit_message(con, f"compacted {table}: deleted rows dropped")
        if file_counts(con, table)[0] > 1:
            with transaction(con):
                con.execute(f"CALL ducklake_merge_adjacent_files('{CATALOG_ALIAS}', ?)", [table])
                commit_message(con, f"compacted {table}: small files merged")
        after, _ = file_counts(con, table)
        done.append(Compaction(table, before, after, time.perf_counter() - start))
    return done


# How long warehouse versions stay queryable (`--as-of`) once newer ones exist; 0 keeps them all.
RETENTION_ENV = "PAPERLAKE_KEEP_VERSIONS_DAYS"
DEFAULT_RETENTION_DAYS = 30
# Files only expired versions used are deleted once this old: a reader still scanning one has
# finished by then.
FILE_GRACE = timedelta(days=1)


def version_retention() -> timedelta | None:
    """How long versions are kept (``PAPERLAKE_KEEP_VERSIONS_DAYS``, default 30 days), or None
    to keep every version."""
    text = os.environ.get(RETENTION_ENV, "").strip() or str(DEFAULT_RETENTION_DAYS)
    try:
        days: float | None = float(text)
    except ValueError:
        days = None
    if days is None or not 0 <= days < math.inf:
        raise ValueError(
            f"{RETENTION_ENV}={text!r} is not a number of days (e.g. 30; 0 keeps every version)"
        )
    return timedelta(days=days) if days else None


@dataclass(frozen=True)
class Expiry:
    """Warehouse versions ``expire_versions`` gave up."""

    versions: int
    older_than: datetime

    def describe(self) -> str:
        return (
            f"{self.versions:,} warehouse versions from before "
            f"{self.older_than:%Y-%m-%d %H:%M %Z} expired (no longer queryable with --as-of)"
        )


def expire_versions(con: duckdb.DuckDBPyConnection, older_than: datetime) -> Expiry | None:
    """Give up the warehouse versions committed before ``older_than`` (the latest version always
    stays) and delete the files that only versions expired more than ``FILE_GRACE`` ago used;
    None when nothing was that old.

    Every version DuckLake keeps is a row in its catalog for each file it used, and every query
    reads the catalog to find its files: on a warehouse fed daily for a year, time travel to any
    of thousands of versions makes every scan of every day slower. The data itself is not
    touched: the latest version, and every snapshot's artifacts, stay.
    """
    # (listed by commit time here: ``older_than =>`` also took versions committed after it)
    [versions] = con.execute(
        f"SELECT list(snapshot_id) FROM {CATALOG_ALIAS}.snapshots() WHERE snapshot_time < ? "
        f"AND snapshot_id < (SELECT max(snapshot_id) FROM {CATALOG_ALIAS}.snapshots())",
        [older_than],
    ).fetchone()
    if versions:
        con.execute(f"CALL ducklake_expire_snapshots('{CATALOG_ALIAS}', versions => ?)", [versions])
    con.execute(
        f"CALL ducklake_cleanup_old_files('{CATALOG_ALIAS}', older_than => ?)",
        [datetime.now(UTC) - FILE_GRACE],
    )
    return Expiry(len(versions), older_than) if versions else None


def maintain(
    con: duckdb.DuckDBPyConnection, expire_before: datetime | None
) -> list[Compaction | Expiry]:
    """The weekly upkeep: ``compact`` every table, then ``expire_versions`` committed before
    ``expire_before`` (None keeps every version); returns what was done."""
    done: list[Compaction | Expiry] = list(compact(con))
    expiry = expire_versions(con, expire_before) if expire_before is not None else None
    return done + ([expiry] if expiry is not None else [])


def table_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The warehouse's tables (not views, not a session's temporary tables)."""
    return [
        name
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ? ORDER BY table_name",
            [CATALOG_ALIAS],
        ).fetchall()
    ]


def file_counts(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int]:
    """Data files of ``table``, and how many of them have deleted rows."""
    return con.execute(
        f"SELECT count(*), count(delete_file) FROM ducklake_list_files('{CATALOG_ALIAS}', ?)",
        [table],
    ).fetchone()


def index_search(con: duckdb.DuckDBPyConnection, home: Home, snapshot_id: str) -> tuple[int, int]:
    """Add a snapshot's not yet searchable papers to the full-text index; returns (papers
    indexed, segments merged). ``con`` is a writer session's: the segments are attached here,
    under the writer lock, so those another writer added or merged meanwhile are included, and
    segments written by an earlier version are rebuilt first (``search.upgrade``)."""
    files, fts = search.segment_files(home), extension_path(*FTS)
    search.attach(con, files, fts)
    search.upgrade(con, files, fts)
    return search.add_papers(con, files, snapshot_papers(con, snapshot_id), fts)


def find_papers(con: duckdb.DuckDBPyConnection, query: str, limit: int) -> pa.Table:
    """The ``limit`` best papers for ``query`` (BM25), best first: ``score, title, paper_id,
    first_seen, last_seen``.

    The best hits are chosen in the search segments first, then looked up in ``papers`` by a
    constant list of their keys (decoding only their rows). A paper a replaced snapshot dropped may
    still sit in a segment; if the lookup finds fewer than ``limit`` papers while more hits
    exist, it asks for more hits.
    """
    wanted = limit
    while True:
        hits = con.execute(
            "SELECT paper_id, score FROM search_best($query, $wanted)",
            {"query": query, "wanted": wanted},
        ).to_arrow_table()
        papers = PAPERS_WITH_IDS.format(columns="paper_id, title, first_seen, last_seen")
        found = con.execute(
            f"""
            SELECT round(h.score, 4) AS score, p.title, p.paper_id, p.first_seen, p.last_seen
            FROM ({papers}) p
            JOIN (SELECT unnest($ids) AS paper_id, unnest($scores) AS score) h USING (paper_id)
            ORDER BY h.score DESC, p.paper_id
            LIMIT $limit
            """,
            {
                "ids": hits["paper_id"].to_pylist(),
                "scores": hits["score"].to_pylist(),
                "limit": limit,
            },
        ).to_arrow_table()
        if found.num_rows >= limit or hits.num_rows < wanted:
            return found
        wanted *= 4


def record_versions(
    con: duckdb.DuckDBPyConnection, store: ArtifactStore, partitions: list[tuple[str, str]]
) -> int:
    """Mirror the manifests of the given (artifact, partition) pairs into ``artifact_versions``
    in one transaction; returns the number of versions recorded."""
    versions = [
        v for artifact, partition in partitions for v in store.versions(artifact, partition)
    ]
    rows = pa.Table.from_pylist(
        [
            {
                "artifact": v.artifact,
                "partition": v.partition,
                "version": v.version,
                "created_at": datetime.fromisoformat(v.created_at),
                "code_version": v.code_version,
                "upstream": list(v.upstream.items()),
                "rows": v.rows,
                "path": v.path,
                "is_current": store.is_current(v),
            }
            for v in versions
        ],
        schema=ARTIFACT_VERSIONS,
    )
    keys = pa.Table.from_pylist(
        [{"artifact": a, "partition": p} for a, p in partitions],
        schema=pa.schema([("artifact", pa.string()), ("partition", pa.string())]),
    )

    def attempt() -> int:
        with transaction(con, {"recorded": rows, "recorded_keys": keys}):
            commit_message(
                con, "artifact versions of " + ", ".join(f"{a}/{p}" for a, p in partitions)
            )
            con.execute(
                "DELETE FROM artifact_versions WHERE (artifact, partition) IN "
                "(SELECT artifact, partition FROM recorded_keys)"
            )
            con.execute("INSERT INTO artifact_versions BY NAME SELECT * FROM recorded")
        return rows.num_rows

    return with_retry(attempt)


def record_fetches(con: duckdb.DuckDBPyConnection, results: list) -> None:
    """Append fetch results (``pipeline.fetch.FetchResult``) to the ``fetches`` table."""
    if not results:
        return
    now = datetime.now(UTC)
    rows = [(r.source, r.day, r.status, r.message, r.requests, r.landed, now) for r in results]

    def attempt() -> None:
        with transaction(con):
            commit_message(con, "fetches of " + ", ".join(sorted({r.source for r in results})))
            con.executemany("INSERT INTO fetches VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    with_retry(attempt)


def query(home: Home, sql: str, params: list[Any] | None = None) -> pa.Table:
    """Run one read-only query against the warehouse and return an Arrow table."""
    with session(home, read_only=True) as con:
        return con.execute(sql, params).to_arrow_table()


def strongest_links(con: duckdb.DuckDBPyConnection, snapshot_id: str, limit: int) -> pa.Table:
    """The ``limit`` strongest related-paper edges the load of ``snapshot_id`` computed, with
    both papers' titles (``paper, related, score, shared_terms``), strongest first."""
    edges = con.execute(
        "SELECT paper_id, related_id, score, shared_terms FROM related_edges "
        "WHERE snapshot_id = ? ORDER BY score DESC, paper_id, related_id LIMIT ?",
        [snapshot_id, limit],
    ).to_arrow_table()
    # the titles by a constant key list: a join would decode every stored title
    ids = sorted(set(edges["paper_id"].to_pylist()) | set(edges["related_id"].to_pylist()))
    titles = PAPERS_WITH_IDS.format(columns="paper_id, title")
    with registered(con, {"strongest": edges}):
        return con.execute(
            f"""
            WITH titles AS MATERIALIZED ({titles})
            SELECT p.title AS paper, q.title AS related, r.score, r.shared_terms
            FROM strongest r
            JOIN titles p USING (paper_id)
            JOIN titles q ON q.paper_id = r.related_id
            ORDER BY r.score DESC, r.paper_id, r.related_id
            """,
            {"ids": ids},
        ).to_arrow_table()
