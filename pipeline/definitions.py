"""The code location entry: paperlake's Dagster definitions, assembled from ``assets/``."""

import dagster as dg

from assets import (
    checks,
    executors,
    jobs,
    maintenance,
    reports,
    resources,
    schedules,
    sensors,
    snapshot,
    sources,
    warehouse,
)

# Modules that define assets and checks (assets.celery_worker is the workers' entry point, not
# part of the graph, and needs the distributed profile's packages).
ASSET_MODULES = [snapshot, warehouse, reports, sources, checks]

defs = dg.Definitions(
    assets=dg.load_assets_from_modules(ASSET_MODULES),
    asset_checks=dg.load_asset_checks_from_modules(ASSET_MODULES),
    jobs=[
        jobs.snapshot_job,
        jobs.digest_job,
        jobs.trends_job,
        sources.fetch_job,
        sources.freshness_job,
        maintenance.compaction_job,
    ],
    sensors=[sensors.landing_sensor, schedules.report_automation],
    schedules=[
        schedules.daily_digest,
        sources.daily_fetch,
        sources.freshness_schedule,
        maintenance.weekly_compaction,
    ],
    resources={"paperlake": resources.PaperlakeResource()},
    executor=executors.default_executor(),
)
