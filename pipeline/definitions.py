"""The code location entry: paperlake's Dagster definitions, assembled from ``assets/``."""

import dagster as dg

import assets
from assets import jobs, resources, schedules, sensors, sources

defs = dg.Definitions(
    assets=dg.load_assets_from_package_module(assets),
    asset_checks=dg.load_asset_checks_from_package_module(assets),
    jobs=[
        jobs.snapshot_job,
        jobs.digest_job,
        jobs.trends_job,
        sources.fetch_job,
        sources.freshness_job,
    ],
    sensors=[sensors.landing_sensor, schedules.report_automation],
    schedules=[schedules.daily_digest, sources.daily_fetch, sources.freshness_schedule],
    resources={"paperlake": resources.PaperlakeResource()},
)
