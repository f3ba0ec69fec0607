"""The code location entry: paperlake's Dagster definitions, assembled from ``assets/``."""

import dagster as dg

import assets
from assets import jobs, resources, schedules, sensors

defs = dg.Definitions(
    assets=dg.load_assets_from_package_module(assets),
    asset_checks=dg.load_asset_checks_from_package_module(assets),
    jobs=[jobs.snapshot_job, jobs.digest_job, jobs.trends_job],
    sensors=[sensors.landing_sensor, schedules.report_automation],
    schedules=[schedules.daily_digest],
    resources={"paperlake": resources.PaperlakeResource()},
)
