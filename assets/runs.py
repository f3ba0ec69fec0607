"""Headless runs through the Dagster instance, for the ``paperlake`` command line.

Runs started here are recorded in the same instance as the UI's, so they show up there.
"""

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg

from assets.executors import profile
from assets.schedules import latest_snapshot
from pipeline.home import REPO_ROOT, Home
from pipeline.ingest import RAW_ARTIFACT
from pipeline.landing import land, snapshot_key

TRIGGER_TAG, PID_TAG, HOST_TAG = "paperlake/trigger", "paperlake/pid", "paperlake/host"


def use_project_instance() -> None:
    """Point ``DAGSTER_HOME`` at the project's ``dagster.yaml`` (or the selected profile's)."""
    name = profile()
    folder = REPO_ROOT if name == "embedded" else REPO_ROOT / "deploy" / name
    if not (folder / "dagster.yaml").exists():
        raise RuntimeError(f"no dagster.yaml for profile {name!r} in {folder}")
    os.environ["DAGSTER_HOME"] = str(folder)


def instance() -> dg.DagsterInstance:
    use_project_instance()
    return dg.DagsterInstance.get()


def run_tags(**extra: str) -> dict[str, str]:
    """Tags of a run this process executes: who started it, so an abandoned one can be found."""
    return {TRIGGER_TAG: "cli", PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname(), **extra}


def reclaim_abandoned_runs(dagster_instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the runs a killed ``paperlake`` process left behind (the warehouse locks they
    held died with them)."""
    abandoned = []
    runs = dagster_instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING],
            tags={TRIGGER_TAG: "cli", HOST_TAG: socket.gethostname()},
        )
    )
    for run in runs:
        pid = int(run.tags.get(PID_TAG, "0"))
        if pid and not _alive(pid):
            dagster_instance.report_run_failed(run, "the paperlake command running it stopped")
            abandoned.append(run.run_id)
    return abandoned


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class IngestOutcome:
    """What happened to one file given to ``paperlake ingest``."""

    source: Path
    snapshot: str | None
    ok: bool
    message: str
    run_id: str | None = None


# The command line prints one line per file; the full event log is in the UI.
QUIET_LOGGING = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def ingest_files(
    paths: list[Path], home: Home, progress: Callable[[str], None] = lambda _: None
) -> list[IngestOutcome]:
    """Land each file, register its snapshot partition and run ``snapshot_job`` for it."""
    outcomes = []
    with instance() as dagster_instance:
        _reclaim(dagster_instance, progress)
        for path in paths:
            problem = _unreadable(path)
            if problem:
                outcomes.append(IngestOutcome(path, None, False, f"{path}: {problem}"))
                continue
            progress(f"[{len(outcomes) + 1}/{len(paths)}] {path} ...")
            outcomes.append(_ingest_landed(dagster_instance, home, land(home, path).name, path))
        _refresh_trends(dagster_instance, outcomes, progress)
    return outcomes


@dataclass(frozen=True)
class FetchOutcome:
    """What ``paperlake fetch`` did for one day: the fetch run's summary and the ingests."""

    day: date
    ok: bool
    message: str
    ingests: list[IngestOutcome]


def fetch_days(
    days: list[date],
    source: str | None,
    home: Home,
    progress: Callable[[str], None] = lambda _: None,
) -> list[FetchOutcome]:
    """Run ``fetch_job`` for each day, then ingest every listing it landed."""
    outcomes = []
    with instance() as dagster_instance:
        _reclaim(dagster_instance, progress)
        for day in days:
            progress(f"fetching {day} ...")
            result = run_job(
                dagster_instance,
                "fetch_job",
                day.isoformat(),
                {"ops": {"source_listings": {"config": {"source": source or ""}}}},
            )
            if not result.success:
                outcomes.append(FetchOutcome(day, False, _failure_reason(result), []))
                continue
            metadata = result.asset_materializations_for_node("source_listings")[0].metadata
            landed = list(metadata["landed"].value) if "landed" in metadata else []
            ingests = [_ingest_landed(dagster_instance, home, name, Path(name)) for name in landed]
            outcomes.append(FetchOutcome(day, True, str(metadata["status"].value), ingests))
        _refresh_trends(dagster_instance, [i for o in outcomes for i in o.ingests], progress)
        if outcomes and outcomes[-1].ok and not outcomes[-1].ingests:
            # the last day brought nothing new: the latest digest says so
            latest = latest_snapshot(dagster_instance.get_dynamic_partitions("snapshots"))
            if latest is not None:
                progress(f"re-rendering the digest of {latest} ...")
                run_job(dagster_instance, "digest_job", latest)
    return outcomes


def _reclaim(dagster_instance: dg.DagsterInstance, progress: Callable[[str], None]) -> None:
    for run_id in reclaim_abandoned_runs(dagster_instance):
        progress(f"marked run {run_id} failed: the command running it was killed")


def _ingest_landed(
    dagster_instance: dg.DagsterInstance, home: Home, landed: str, source: Path
) -> IngestOutcome:
    """Run ``snapshot_job`` for the file named ``landed`` in the landing folder (registering
    its partition)."""
    key = snapshot_key(landed)
    if not dagster_instance.has_dynamic_partition("snapshots", key):
        dagster_instance.add_dynamic_partitions("snapshots", [key])
    result = run_job(
        dagster_instance,
        "snapshot_job",
        key,
        {"ops": {"raw_listing": {"config": {"landing_file": landed}}}},
        **{"paperlake/landing_file": landed},
    )
    return _outcome(source, key, result, home)


def _refresh_trends(
    dagster_instance: dg.DagsterInstance,
    outcomes: list[IngestOutcome],
    progress: Callable[[str], None],
) -> None:
    if any(outcome.ok for outcome in outcomes):
        progress("refreshing the trend report and the feed ...")
        run_job(dagster_instance, "trends_job")


def run_job(
    dagster_instance: dg.DagsterInstance,
    name: str,
    partition_key: str | None = None,
    run_config: dict | None = None,
    **tags: str,
) -> dg.ExecuteInProcessResult:
    """Run one of the project's jobs in this process, recorded in ``dagster_instance``."""
    from pipeline.definitions import defs

    return defs.resolve_job_def(name).execute_in_process(
        instance=dagster_instance,
        partition_key=partition_key,
        run_config={**(run_config or {}), **QUIET_LOGGING},
        tags=run_tags(**tags),
        raise_on_error=False,
    )


def deliver_digest(snapshot: str) -> dg.ExecuteInProcessResult:
    """Render and (when mail is configured) send the digest of ``snapshot``."""
    with instance() as dagster_instance:
        reclaim_abandoned_runs(dagster_instance)
        return run_job(dagster_instance, "digest_job", snapshot)


def compact_warehouse() -> tuple[list, str | None]:
    """Run ``compaction_job`` now: what it compacted per table (``warehouse.Compaction``), and
    why it failed (or None)."""
    with instance() as dagster_instance:
        reclaim_abandoned_runs(dagster_instance)
        result = run_job(dagster_instance, "compaction_job")
    if not result.success:
        return [], _failure_reason(result)
    return result.output_for_node("compact_warehouse"), None


def _unreadable(path: Path) -> str | None:
    if not path.exists():
        return "no such file"
    if not path.is_file():
        return "not a regular file"
    if not os.access(path, os.R_OK):
        return "not readable"
    return None


def _outcome(path: Path, key: str, result: dg.ExecuteInProcessResult, home: Home) -> IngestOutcome:
    if result.success:
        from pipeline.artifacts import artifact_store

        store = artifact_store(home)
        papers, raw = store.require("papers", key), store.require(RAW_ARTIFACT, key)
        message = f"{path}: snapshot {key}, {papers.rows} papers (raw {raw.short})"
        return IngestOutcome(path, key, True, message, result.run_id)
    return IngestOutcome(path, key, False, f"{path}: {_failure_reason(result)}", result.run_id)


def _failure_reason(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data:
            failure = event.step_failure_data.user_failure_data
            if failure is not None:
                problem = failure.metadata.get("problem")
                if problem is not None:
                    return str(problem.value)
                if failure.description:
                    return failure.description
            error = event.step_failure_data.error
            if error is not None:
                root = error.cause or error
                return f"step {event.step_key} failed: {root.message.strip().splitlines()[-1]}"
    return "run failed (see the run in the Dagster UI)"
