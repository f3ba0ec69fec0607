"""Sources that feed themselves: daily HTTP fetches into the landing folder, and freshness."""

import os
from datetime import UTC, datetime, timedelta

import dagster as dg

from assets.resources import PaperlakeResource
from assets.snapshot import OWNERS, raw_listing
from pipeline import fetch, warehouse
from pipeline.ingest import RAW_ARTIFACT

days = dg.DailyPartitionsDefinition(start_date="2023-01-01", end_offset=1)
FRESHNESS_HOURS = float(os.environ.get("PAPERLAKE_FRESHNESS_HOURS", "36"))
# Held while a day's sources are checked, fetched and recorded.
FETCH_LOCK = "fetch"
# Fetched and unchanged days are not fetched again by a backfill.
DONE = ("new", "unchanged", "empty")


class FetchConfig(dg.Config):
    """Fetch only this source (empty: every configured source)."""

    source: str = ""


@dg.asset(
    partitions_def=days,
    group_name="sources",
    kinds={"http"},
    owners=OWNERS,
    code_version="1",
)
def source_listings(
    context: dg.AssetExecutionContext, config: FetchConfig, paperlake: PaperlakeResource
) -> dg.MaterializeResult:
    """Fetches the day's listing from every source in sources.yaml (PAPERLAKE_HOME or
    PAPERLAKE_SOURCES) and lands each new one in the landing folder, where the landing sensor
    ingests it like a dropped file. Unchanged (304, same bytes) and empty listings are recorded
    as "nothing new", never ingested twice; a day already fetched is not fetched again. Every
    fetch is recorded in the warehouse table `fetches`."""
    home = paperlake.paths
    day = datetime.strptime(context.partition_key, "%Y-%m-%d").date()
    try:
        sources = fetch.load_sources(home)
    except fetch.SourceConfigError as error:
        raise dg.Failure(description=str(error)) from None
    if config.source:
        sources = [s for s in sources if s.name == config.source]
        if not sources:
            raise dg.Failure(
                description=f"no source named {config.source!r} in {fetch.sources_file(home)}"
            )
    if not sources:
        return dg.MaterializeResult(
            metadata={"status": f"no sources configured ({fetch.sources_file(home)})"}
        )
    # One fetch of a day at a time; the warehouse's writer lock is held only to read and record
    # what was fetched, never while a source answers.
    with warehouse.exclusive(home, FETCH_LOCK):
        with warehouse.session(home) as con:
            done = {
                source
                for (source,) in con.execute(
                    "SELECT DISTINCT source FROM fetches WHERE day = ? AND status IN ?",
                    [day, list(DONE)],
                ).fetchall()
            }
        fetcher = fetch.Fetcher(home)
        results = [fetcher.fetch(s, day) for s in sources if s.name not in done]
        with warehouse.session(home) as con:
            warehouse.record_fetches(con, results)
    lines = [f"| {r.source} | {r.status} | {r.requests} | {r.message} |" for r in results]
    table = "| source | status | requests | what happened |\n|---|---|---|---|\n" + "\n".join(lines)
    skipped = sorted(done)
    failed = [r for r in results if r.status == "failed"]
    if failed:
        raise dg.Failure(
            description="; ".join(r.message for r in failed),
            metadata={"fetches": dg.MetadataValue.md(table)},
        )
    nothing_new = not any(r.status == "new" for r in results)
    return dg.MaterializeResult(
        metadata={
            "fetches": dg.MetadataValue.md(table),
            "landed": [r.landed for r in results if r.landed],
            "already_fetched": skipped,
            "status": "nothing new today" if nothing_new else "new listings landed",
        }
    )


@dg.asset_check(asset=raw_listing, description="A new dump arrived recently enough.")
def raw_listing_freshness(paperlake: PaperlakeResource) -> dg.AssetCheckResult:
    """Fails when no new raw dump version has arrived for PAPERLAKE_FRESHNESS_HOURS (default
    36): a broken scraper or source gets noticed. Identical re-ingests do not count as new."""
    versions = paperlake.store.versions(RAW_ARTIFACT)
    if not versions:
        return dg.AssetCheckResult(passed=False, description="no dump has arrived yet")
    newest = max(datetime.fromisoformat(v.created_at) for v in versions)
    age = datetime.now(UTC) - newest
    return dg.AssetCheckResult(
        passed=age <= timedelta(hours=FRESHNESS_HOURS),
        description=f"newest dump arrived {age.total_seconds() / 3600:.1f} h ago (limit {FRESHNESS_HOURS:g} h)",
        metadata={"newest": newest.isoformat(), "hours": round(age.total_seconds() / 3600, 1)},
    )


fetch_job = dg.define_asset_job(
    "fetch_job",
    selection=dg.AssetSelection.assets(source_listings),
    description="Fetch one day's listings from the configured sources into the landing folder.",
)
freshness_job = dg.define_asset_job(
    "freshness_job",
    selection=dg.AssetSelection.checks(raw_listing_freshness),
    description="Check that a new dump arrived recently.",
)


@dg.schedule(
    job=fetch_job,
    cron_schedule=os.environ.get("PAPERLAKE_FETCH_CRON", "0 6 * * *"),
    execution_timezone=os.environ.get("PAPERLAKE_TIMEZONE", "UTC"),
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def daily_fetch(context: dg.ScheduleEvaluationContext, paperlake: PaperlakeResource):
    """Fetch today's listings (PAPERLAKE_FETCH_CRON, default 06:00, an hour before the digest).
    Skips, saying so, while no source is configured."""
    if not fetch.load_sources(paperlake.paths):
        return dg.SkipReason(f"no sources configured in {fetch.sources_file(paperlake.paths)}")
    day = context.scheduled_execution_time.date().isoformat()
    return dg.RunRequest(run_key=f"fetch-{day}", partition_key=day)


freshness_schedule = dg.ScheduleDefinition(
    name="hourly_freshness",
    job=freshness_job,
    cron_schedule="0 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Runs the raw-listing freshness check every hour.",
)
