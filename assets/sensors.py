"""The landing sensor: a dropped dump becomes a snapshot partition and a run."""

import json
import os
import time

import dagster as dg

from assets.jobs import snapshot_job
from assets.partitions import snapshots
from assets.resources import PaperlakeResource
from pipeline.landing import LandedFile, landing_interval, scan_landing

# A file whose size and mtime have not changed for this long is complete even if the sensor has
# not seen it before (e.g. dropped while the daemon was stopped).
SETTLED_SECONDS = 30.0


def raw_listing_config(landed: LandedFile) -> dg.RunConfig:
    return dg.RunConfig(ops={"raw_listing": {"config": {"landing_file": landed.name}}})


def stable_files(files: list[LandedFile], previous: dict[str, str], now: float) -> list[LandedFile]:
    """Files that are not being written: unchanged since the last tick, or settled for a while."""
    return [
        f
        for f in files
        if previous.get(f.name) == f.fingerprint or now - f.mtime_ns / 1e9 >= SETTLED_SECONDS
    ]


@dg.sensor(
    job=snapshot_job,
    minimum_interval_seconds=landing_interval(os.environ),
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def landing_sensor(
    context: dg.SensorEvaluationContext, paperlake: PaperlakeResource
) -> dg.SensorResult | dg.SkipReason:
    """Watches the landing folder (every PAPERLAKE_LANDING_INTERVAL seconds; default 15, or 60
    on object storage). A new or changed dump that has stopped growing gets a snapshot
    partition (named after the file) and a run of `snapshot_job` for it; files for the same
    snapshot are taken one at a time, oldest first."""
    files = scan_landing(paperlake.paths)
    previous: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    cursor = json.dumps({f.name: f.fingerprint for f in files}, sort_keys=True)
    ready: dict[str, LandedFile] = {}
    for landed in stable_files(files, previous, time.time()):
        ready.setdefault(landed.key, landed)
    if not ready:
        waiting = len(files)
        reason = f"{waiting} file(s) still being written" if waiting else "landing folder is empty"
        return dg.SensorResult(skip_reason=reason, cursor=cursor)
    known = set(context.instance.get_dynamic_partitions(snapshots.name))
    new_keys = sorted(set(ready) - known)
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"{landed.name}@{landed.fingerprint}",
                partition_key=key,
                run_config=raw_listing_config(landed),
                tags={"paperlake/landing_file": landed.name},
            )
            for key, landed in ready.items()
        ],
        dynamic_partitions_requests=[snapshots.build_add_request(new_keys)] if new_keys else [],
        cursor=cursor,
    )
