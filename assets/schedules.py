"""The daily digest schedule."""

import os
from datetime import date

import dagster as dg

from assets.jobs import digest_job
from assets.partitions import snapshots
from pipeline.landing import observed_on

DIGEST_CRON = os.environ.get("PAPERLAKE_DIGEST_CRON", "0 7 * * *")
DIGEST_TIMEZONE = os.environ.get("PAPERLAKE_TIMEZONE", "UTC")


def latest_snapshot(keys: list[str]) -> str | None:
    """The snapshot observed last: by the date in its key, then by registration order."""
    if not keys:
        return None
    order = {key: i for i, key in enumerate(keys)}
    return max(keys, key=lambda k: (observed_on(k) or date.min, order[k]))


@dg.schedule(
    job=digest_job,
    cron_schedule=DIGEST_CRON,
    execution_timezone=DIGEST_TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def daily_digest(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    """Re-renders the digest of the latest snapshot every day (time: PAPERLAKE_DIGEST_CRON,
    timezone: PAPERLAKE_TIMEZONE; default 07:00 UTC)."""
    latest = latest_snapshot(context.instance.get_dynamic_partitions(snapshots.name))
    if latest is None:
        return dg.SkipReason("no snapshots yet: drop a dump into the landing folder")
    return dg.RunRequest(partition_key=latest, tags={"paperlake/trigger": "daily_digest"})
