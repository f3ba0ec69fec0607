"""The landing sensor and the daily schedule, evaluated against a real instance."""

import os
import time
from datetime import UTC, datetime

import dagster as dg

from assets.resources import PaperlakeResource
from assets.schedules import daily_digest, latest_snapshot
from assets.sensors import landing_sensor
from pipeline.definitions import defs


def _tick(instance, cursor=None):
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"paperlake": PaperlakeResource()}
    )
    return landing_sensor(context)


def _age(path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_empty_landing_folder_skips(instance):
    result = _tick(instance)
    assert not result.run_requests
    assert result.skip_reason.skip_message == "landing folder is empty"


def test_a_settled_file_gets_a_partition_and_a_run(home, instance):
    dump = home.landing / "hf-trending-2026-11-26.txt"
    dump.write_text("title\nabstract")
    _age(dump, 120)
    result = _tick(instance)
    [request] = result.run_requests
    assert request.partition_key == "hf-trending-2026-11-26"
    assert request.run_config["ops"]["raw_listing"]["config"]["landing_file"] == dump.name
    [add] = result.dynamic_partitions_requests
    assert list(add.partition_keys) == ["hf-trending-2026-11-26"]


def test_a_file_still_being_written_waits_until_it_is_stable(home, instance):
    dump = home.landing / "growing.txt"
    dump.write_text("part one")
    first = _tick(instance)
    assert not first.run_requests, "a fresh file is not taken on first sight"
    with dump.open("a") as handle:
        handle.write(" and part two")
    second = _tick(instance, first.cursor)
    assert not second.run_requests, "a file that changed since the last tick is still being written"
    third = _tick(instance, second.cursor)
    assert [r.partition_key for r in third.run_requests] == ["growing"]


def test_two_files_for_one_snapshot_are_taken_oldest_first(home, instance):
    older, newer = home.landing / "day.txt", home.landing / "day.json"
    older.write_text("a")
    newer.write_text("b")
    _age(older, 200)
    _age(newer, 100)
    [request] = _tick(instance).run_requests
    assert request.run_config["ops"]["raw_listing"]["config"]["landing_file"] == "day.txt"


def test_latest_snapshot_prefers_the_date_in_the_key():
    keys = ["hf-trending-2026-11-26", "hf-trending-2026-11-24", "undated", "hf-trending-2026-11-25"]
    assert latest_snapshot(keys) == "hf-trending-2026-11-26"
    assert latest_snapshot(["undated-a", "undated-b"]) == "undated-b"
    assert latest_snapshot([]) is None


def _schedule_tick(instance, when: datetime) -> list:
    context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=when, repository_def=defs.get_repository_def()
    )
    return list(daily_digest.evaluate_tick(context).run_requests or [])


def test_daily_schedule_delivers_the_latest_digest_and_refreshes_trends(instance):
    morning = datetime(2026, 11, 27, 7, tzinfo=UTC)
    assert _schedule_tick(instance, morning) == []
    instance.add_dynamic_partitions(
        "snapshots", ["hf-trending-2026-11-25", "hf-trending-2026-11-26"]
    )
    digest, trends = _schedule_tick(instance, morning)
    assert (digest.partition_key, digest.run_key) == ("hf-trending-2026-11-26", "digest-2026-11-27")
    assert [k.to_user_string() for k in digest.asset_selection] == [
        "snapshot_report",
        "digest_mail",
    ]
    assert trends.partition_key is None and trends.run_key == "trends-2026-11-27"
    assert [k.to_user_string() for k in trends.asset_selection] == ["trend_report", "digest_feed"]


def test_the_sensor_looks_as_often_as_configured():
    from pipeline.landing import landing_interval

    assert landing_sensor.minimum_interval_seconds == landing_interval(os.environ)


def test_the_daemon_launches_queued_runs_every_second_two_at_a_time(instance):
    """A backfill's next run starts about a second after a slot frees, not up to five."""
    coordinator = instance.run_coordinator
    assert coordinator.dequeue_interval_seconds == 1
    assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 2
