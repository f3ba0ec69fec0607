"""Warehouse upkeep: compacting the DuckLake data files and expiring old warehouse versions on a
schedule, so scans stay as fast in the warehouse's third year as in its first week."""

import os
from datetime import UTC, datetime

import dagster as dg

from assets.resources import PaperlakeResource
from pipeline import warehouse

COMPACTION_CRON = os.environ.get("PAPERLAKE_COMPACTION_CRON", "0 3 * * 0")


@dg.op(out=dg.Out(list, description="what was compacted, table by table, and expired"))
def compact_warehouse(
    context: dg.OpExecutionContext, paperlake: PaperlakeResource
) -> list[warehouse.Compaction | warehouse.Expiry]:
    """Rewrite the warehouse's data files without their deleted rows and merge small files,
    table by table, then expire the warehouse versions older than PAPERLAKE_KEEP_VERSIONS_DAYS
    (default 30; 0 keeps every version), holding the writer lock (loads wait meanwhile)."""
    retention = warehouse.version_retention()
    with warehouse.session(paperlake.paths) as con:
        done = warehouse.maintain(con, datetime.now(UTC) - retention if retention else None)
    for step in done:
        context.log.info(step.describe())
    if not done:
        context.log.info(warehouse.NOTHING_TO_COMPACT)
    return done


@dg.job(
    description="Compact the warehouse's data files and expire old versions (weekly; "
    "`paperlake compact` runs it now)."
)
def compaction_job() -> None:
    compact_warehouse()


weekly_compaction = dg.ScheduleDefinition(
    name="weekly_compaction",
    job=compaction_job,
    cron_schedule=COMPACTION_CRON,
    execution_timezone=os.environ.get("PAPERLAKE_TIMEZONE", "UTC"),
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Compacts the warehouse every week (PAPERLAKE_COMPACTION_CRON; default Sunday "
    "03:00): each daily load adds small files and delete files that every scan reads; then "
    "expires warehouse versions older than PAPERLAKE_KEEP_VERSIONS_DAYS (default 30).",
)
