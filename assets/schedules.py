"""The daily schedule, and the automation that keeps whole-history reports current."""

import os
from datetime import date

import dagster as dg

from assets.partitions import snapshots
from pipeline.landing import observed_on

DIGEST_CRON = os.environ.get("PAPERLAKE_DIGEST_CRON", "0 7 * * *")
DIGEST_TIMEZONE = os.environ.get("PAPERLAKE_TIMEZONE", "UTC")
DIGEST = [dg.AssetKey("snapshot_report"), dg.AssetKey("digest_mail")]
TRENDS = [dg.AssetKey("trend_report"), dg.AssetKey("digest_feed")]


def latest_snapshot(keys: list[str]) -> str | None:
    """The snapshot observed last: by the date in its key, then by registration order."""
    if not keys:
        return None
    order = {key: i for i, key in enumerate(keys)}
    return max(keys, key=lambda k: (observed_on(k) or date.min, order[k]))


@dg.schedule(
    target=dg.AssetSelection.assets(*DIGEST, *TRENDS),
    cron_schedule=DIGEST_CRON,
    execution_timezone=DIGEST_TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def daily_digest(context: dg.ScheduleEvaluationContext):
    """Every day (PAPERLAKE_DIGEST_CRON in PAPERLAKE_TIMEZONE; default 07:00 UTC): re-render the
    latest snapshot's digest and mail it unless it was sent already, and refresh the trend report
    and the feed. With no new snapshot the digest run says so and sends nothing."""
    latest = latest_snapshot(context.instance.get_dynamic_partitions(snapshots.name))
    if latest is None:
        yield dg.SkipReason("no snapshots yet: drop a dump into the landing folder")
        return
    day = context.scheduled_execution_time.date().isoformat()
    tags = {"paperlake/trigger": "daily_digest"}
    yield dg.RunRequest(
        run_key=f"digest-{day}", partition_key=latest, asset_selection=DIGEST, tags=tags
    )
    yield dg.RunRequest(run_key=f"trends-{day}", asset_selection=TRENDS, tags=tags)


report_automation = dg.AutomationConditionSensorDefinition(
    "report_automation",
    target=dg.AssetSelection.assets(*TRENDS),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Re-renders the trend report and the feed when the data they read has changed.",
)
