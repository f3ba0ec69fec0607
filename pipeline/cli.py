"""The ``paperlake`` command line.

Commands that run assets (``ingest``, ``demo``) go through the Dagster instance, so their runs
show in the UI; they import the Dagster layer only when called, which keeps ``paperlake sql``
quick to start.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

from pipeline import warehouse
from pipeline.artifacts import artifact_store
from pipeline.home import ARTIFACTS, REPO_ROOT, REPORTS, SAMPLE_DUMP, Home, resolve_home
from pipeline.lake import lake_location
from pipeline.versions import diff_snapshots, papers_version, plan_collection

WAREHOUSE_VERSIONS = """
SELECT snapshot_id AS version, snapshot_time, commit_message
FROM lake.snapshots() ORDER BY snapshot_id DESC
"""


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """paperlake: trending-paper dumps in, a versioned warehouse and daily digests out.

    State lives in PAPERLAKE_HOME (default: .paperlake/ in the checkout).
    """


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def ingest(paths: tuple[Path, ...]) -> None:
    """Ingest dump files through Dagster: land, parse, load, report.

    Exits with status 1 if any file is rejected, printing one line per rejected file.
    """
    outcomes = _run_ingest(list(paths))
    if any(not outcome.ok for outcome in outcomes):
        sys.exit(1)


@main.command()
def demo() -> None:
    """Ingest the bundled sample dump, materialize every asset, show where everything went."""
    from assets.runs import deliver_digest

    home = resolve_home()
    outcomes = _run_ingest([SAMPLE_DUMP])
    if not all(outcome.ok for outcome in outcomes):
        sys.exit(1)
    click.echo("delivering the digest (mail only when PAPERLAKE_SMTP_HOST is set) ...", err=True)
    if not deliver_digest(outcomes[0].snapshot).success:
        raise click.ClickException("digest delivery failed; see the digest_job run in the UI")
    _print_locations(home)


@main.command()
@click.argument("query", required=False)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="How to print the result.",
)
@click.option(
    "--as-of",
    help="Query the warehouse as it was at a version (see `paperlake versions warehouse`) or a "
    "time, within the last PAPERLAKE_KEEP_VERSIONS_DAYS days (default 30).",
)
def sql(query: str | None, output_format: str, as_of: str | None) -> None:
    """Run QUERY against the warehouse, or open an interactive SQL shell without one.

    Read-only; works while a pipeline run is writing. Tables and views: see README.md.
    """
    home = resolve_home()
    try:
        if query is None:
            _shell(home, as_of)
            return
        with warehouse.session(home, read_only=True, as_of=as_of) as con:
            result = con.execute(query)
            _print_result(result, output_format)
    except (warehouse.WarehouseMissingError, duckdb.Error, ValueError) as error:
        raise click.ClickException(str(error).strip()) from None


@main.command()
@click.argument("artifact", required=False)
@click.option("--snapshot", help="Only versions of this snapshot.")
def versions(artifact: str | None, snapshot: str | None) -> None:
    """List stored versions of ARTIFACT (all artifacts without it), newest first.

    `paperlake versions warehouse` lists the warehouse's own versions (for `sql --as-of`).
    """
    home = resolve_home()
    if artifact == "warehouse":
        with warehouse.session(home, read_only=True, search=False) as con:
            _print_result(con.execute(WAREHOUSE_VERSIONS), "table")
        return
    store = artifact_store(home)
    found = store.versions(artifact, snapshot)
    if not found:
        raise click.ClickException(
            f"no versions of {artifact or 'any artifact'} in {store.location}"
        )
    rows = [
        {
            "artifact": v.artifact,
            "snapshot": v.partition,
            "version": v.short,
            "current": "*" if store.is_current(v) else "",
            "created_at": v.created_at,
            "code_version": v.code_version,
            "rows": v.rows,
            "made_from": ", ".join(f"{a} {u[:12]}" for a, u in sorted(v.upstream.items())),
        }
        for v in sorted(found, key=lambda v: (v.artifact, v.partition, v.created_at), reverse=True)
    ]
    duckdb.from_arrow(pa.Table.from_pylist(rows)).show(max_rows=len(rows), max_col_width=60)


@main.command()
@click.argument("old")
@click.argument("new")
def diff(old: str, new: str) -> None:
    """What changed between two versions of a snapshot (raw or papers version ids, 6+ chars)."""
    store = artifact_store(resolve_home())
    try:
        before = papers_version(store, store.find(old))
        after = papers_version(store, store.find(new))
    except LookupError as error:
        raise click.ClickException(str(error)) from None
    result = diff_snapshots(store, before, after)
    click.echo(
        f"papers {before.short} ({before.partition}) -> {after.short} ({after.partition})\n"
        f"{len(result.added)} added, {len(result.removed)} removed, "
        f"{len(result.changed)} changed, {result.moved} moved rank"
    )
    for title in result.added:
        click.echo(f"  + {title}")
    for title in result.removed:
        click.echo(f"  - {title}")
    for title, fields in result.changed:
        click.echo(f"  ~ {title} ({', '.join(fields)})")
    for label, changes in (("keyphrases", result.keywords), ("links", result.links)):
        click.echo(f"{label} changed in {len(changes)} paper(s)")
        for title, gained, lost in changes:
            click.echo(
                f"  {title}: " + ", ".join([*(f"+{g}" for g in gained), *(f"-{x}" for x in lost)])
            )


@main.command()
@click.option(
    "--keep", type=click.IntRange(min=1), help="Keep this many newest versions of each artifact."
)
@click.option(
    "--older-than", type=click.IntRange(min=0), help="Remove versions older than this many days."
)
@click.option("--dry-run", is_flag=True, help="Only say what would be removed.")
def gc(keep: int | None, older_than: int | None, dry_run: bool) -> None:
    """Remove old artifact versions. The current version of every artifact, and every version a
    kept version was made from, are always kept."""
    if keep is None and older_than is None:
        raise click.UsageError("give --keep N, --older-than DAYS, or both")
    store = artifact_store(resolve_home())
    plan = plan_collection(
        store, keep, timedelta(days=older_than) if older_than is not None else None
    )
    freed = 0
    for version in plan.remove:
        click.echo(
            f"{'would remove' if dry_run else 'removing'} {version.artifact}/{version.partition} {version.short}"
        )
        if not dry_run:
            freed += store.remove(version)
    click.echo(
        f"{len(plan.remove)} version(s) {'to remove' if dry_run else 'removed'}, "
        f"{len(plan.keep)} kept" + ("" if dry_run else f", {freed / 1e6:.1f} MB freed")
    )


@main.command()
def compact() -> None:
    """Compact the warehouse's data files now (the weekly_compaction schedule does it every
    week): deleted rows are dropped from the files and small files merged; then warehouse
    versions older than PAPERLAKE_KEEP_VERSIONS_DAYS (default 30; 0 keeps them all) are
    expired. Loads wait while it runs."""
    from assets.runs import compact_warehouse

    try:
        warehouse.connect(resolve_home(), read_only=True, search=False).close()
    except warehouse.WarehouseMissingError as error:
        raise click.ClickException(str(error)) from None
    done, failure = compact_warehouse()
    if failure is not None:
        raise click.ClickException(f"compaction failed: {failure}")
    for step in done:
        click.echo(step.describe())
    if not done:
        click.echo(warehouse.NOTHING_TO_COMPACT)


@main.command()
@click.option("--source", help="Only this source of sources.yaml.")
@click.option(
    "--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="The day to fetch (default: today)."
)
@click.option(
    "--since", type=click.DateTime(["%Y-%m-%d"]), help="Fetch every day from this one to today."
)
def fetch(source: str | None, day, since) -> None:
    """Fetch listings from the sources in sources.yaml and ingest what is new, through Dagster.

    Days already fetched are not fetched again; an unchanged or empty listing is recorded as
    "nothing new". Exits with status 1 when a fetch fails or a fetched file is rejected.
    """
    from assets.runs import fetch_days

    if day and since:
        raise click.UsageError("give --date or --since, not both")
    today = datetime.now(UTC).date()
    first = (since or day or datetime.now(UTC)).date()
    last = day.date() if day else today
    if first > last:
        raise click.UsageError(f"{first} is after {last}")
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    home = resolve_home()
    outcomes = fetch_days(days, source, home, progress=lambda line: click.echo(line, err=True))
    failed = False
    for outcome in outcomes:
        click.echo(f"{outcome.day}: {outcome.message}")
        for ingest in outcome.ingests:
            click.echo(f"  {'ingested' if ingest.ok else 'rejected'} {ingest.message}")
        failed |= not outcome.ok or not all(i.ok for i in outcome.ingests)
    if failed:
        sys.exit(1)


@main.command()
@click.argument("terms", nargs=-1, required=True)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="How many papers to show.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
def search(terms: tuple[str, ...], limit: int, output_format: str) -> None:
    """Full-text search over titles and abstracts, best match (BM25) first."""
    home = resolve_home()
    try:
        with warehouse.session(home, read_only=True) as con:
            _print_table(warehouse.find_papers(con, " ".join(terms), limit), output_format)
    except (warehouse.WarehouseMissingError, duckdb.Error) as error:
        raise click.ClickException(str(error).strip()) from None


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("dagster_args", nargs=-1, type=click.UNPROCESSED)
def dev(dagster_args: tuple[str, ...]) -> None:
    """Open the Dagster UI (webserver + daemon) on this home; extra arguments go to `dagster dev`."""
    from assets.runs import use_project_instance

    use_project_instance()
    os.chdir(REPO_ROOT)
    command = ["dagster", "dev", "-m", "pipeline.definitions", *dagster_args]
    executable = Path(sys.executable).with_name("dagster")
    os.execv(str(executable), command)


def _run_ingest(paths: list[Path]) -> list:
    from assets.runs import ingest_files

    home = resolve_home()
    click.echo(f"paperlake home: {home.root}", err=True)
    outcomes = ingest_files(paths, home, progress=lambda line: click.echo(line, err=True))
    for outcome in outcomes:
        if outcome.ok:
            click.echo(f"ingested {outcome.message}")
        else:
            click.echo(f"rejected {outcome.message}", err=True)
    return outcomes


def _print_locations(home: Home) -> None:
    artifacts, reports = home.shared.child(ARTIFACTS), home.shared.child(REPORTS)
    click.echo(
        "\n".join(
            [
                "",
                f"Parquet artifacts : {artifacts.url()}",
                f"Warehouse         : {lake_location(home).describe()}",
                f"Digest            : {reports.url('snapshot_report/latest.html')}",
                f"                    {reports.url('snapshot_report/latest.md')}",
                f"Trend report      : {reports.url('trend_report/latest.html')}",
                f"Feed              : {reports.url('feed.xml')}",
                "",
                'Query it   : .venv/bin/paperlake sql "SELECT rank, title FROM latest_papers LIMIT 10"',
                "Open the UI: ./dev ui   (then http://127.0.0.1:3000)",
            ]
        )
    )


def _print_result(result: duckdb.DuckDBPyConnection, output_format: str) -> None:
    if result.description is not None:
        _print_table(result.to_arrow_table(), output_format)


def _print_table(table: pa.Table, output_format: str) -> None:
    if output_format == "json":
        click.echo(json.dumps(table.to_pylist(), default=str, ensure_ascii=False))
    elif output_format == "csv":
        sink = pa.BufferOutputStream()
        pacsv.write_csv(_csv_safe(table), sink)
        sys.stdout.buffer.write(sink.getvalue().to_pybytes())
        sys.stdout.flush()
    else:
        duckdb.from_arrow(table).show(max_rows=max(table.num_rows, 1))


def _csv_safe(table: pa.Table) -> pa.Table:
    """Lists and structs as JSON text, which CSV can hold."""
    columns = []
    for column in table.columns:
        if pa.types.is_nested(column.type):
            values = [json.dumps(v, default=str, ensure_ascii=False) for v in column.to_pylist()]
            column = pa.array(values, type=pa.string())
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def _shell(home: Home, as_of: str | None = None) -> None:
    """A small SQL prompt: statements end with `;`; `.tables`, `.quit`."""
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (line editing and history for input())
    click.echo(
        f"paperlake SQL on {lake_location(home).metadata} (read-only). "
        "End statements with ';'. .help for help."
    )
    buffer: list[str] = []
    while True:
        try:
            line = input("paperlake> " if not buffer else "      ...> ")
        except (EOFError, KeyboardInterrupt):
            click.echo()
            return
        stripped = line.strip()
        if not buffer and stripped.startswith("."):
            if stripped in {".quit", ".exit"}:
                return
            _shell_command(home, stripped)
            continue
        buffer.append(line)
        if not stripped.endswith(";"):
            continue
        statement = "\n".join(buffer)
        buffer.clear()
        try:
            with warehouse.session(home, read_only=True, as_of=as_of) as con:
                _print_result(con.execute(statement), "table")
        except (warehouse.WarehouseMissingError, duckdb.Error) as error:
            click.echo(f"error: {str(error).strip()}", err=True)


def _shell_command(home: Home, command: str) -> None:
    if command == ".tables":
        statement = "SELECT table_name, table_type FROM information_schema.tables WHERE table_catalog = 'lake' ORDER BY 1"
        with warehouse.session(home, read_only=True, search=False) as con:
            _print_result(con.execute(statement), "table")
    else:
        click.echo(
            ".tables  list tables and views\n.quit    leave\nSQL      any read-only DuckDB SQL ending in ';'"
        )
