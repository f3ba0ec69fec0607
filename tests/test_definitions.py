"""The whole asset graph, as the UI shows it."""

import dagster as dg

from pipeline.definitions import defs

WAREHOUSE = sorted(
    f"warehouse/{t}"
    for t in (
        "snapshots",
        "papers",
        "listings",
        "paper_keywords",
        "paper_links",
        "keywords",
        "keyword_trends",
        "related_papers",
    )
)
# Reports over the whole history have no partitions; everything else is per snapshot.
UNPARTITIONED = {"trend_report", "digest_feed"}
DAILY = {"source_listings"}
EXPECTED_GRAPH = {
    "raw_listing": ("ingest", []),
    "papers": ("snapshot", ["raw_listing"]),
    "paper_keywords": ("snapshot", ["papers"]),
    "paper_links": ("snapshot", ["papers"]),
    "warehouse/snapshots": ("warehouse", ["papers", "raw_listing"]),
    "warehouse/papers": ("warehouse", ["papers"]),
    "warehouse/listings": ("warehouse", ["papers"]),
    "warehouse/paper_keywords": ("warehouse", ["paper_keywords"]),
    "warehouse/paper_links": ("warehouse", ["paper_links"]),
    "warehouse/keywords": ("warehouse", ["paper_keywords"]),
    "warehouse/keyword_trends": ("warehouse", ["paper_keywords"]),
    "warehouse/related_papers": ("warehouse", ["warehouse/listings", "warehouse/papers"]),
    "warehouse/search_index": ("warehouse", ["warehouse/listings", "warehouse/papers"]),
    "source_listings": ("sources", []),
    "digest_mail": ("reports", ["snapshot_report"]),
    "digest_feed": ("reports", ["snapshot_report"]),
    "trend_report": ("reports", WAREHOUSE),
    "snapshot_report": (
        "reports",
        sorted(
            f"warehouse/{t}"
            for t in (
                "snapshots",
                "papers",
                "listings",
                "paper_keywords",
                "paper_links",
                "keywords",
                "keyword_trends",
                "related_papers",
            )
        ),
    ),
}


def _graph():
    return defs.resolve_asset_graph()


def test_asset_graph_snapshot():
    graph = _graph()
    actual = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        deps = sorted(parent.to_user_string() for parent in node.parent_keys)
        actual[key.to_user_string()] = (node.group_name, deps)
    assert actual == EXPECTED_GRAPH


def test_every_asset_is_documented_owned_kinded_and_versioned():
    graph = _graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        name = key.to_user_string()
        assert node.description and len(node.description) > 40, name
        assert node.owners == ["team:paperlake"], name
        assert node.kinds, name
        assert node.code_version, name
        if name in UNPARTITIONED:
            assert node.partitions_def is None, name
            assert node.automation_condition is not None, name
        elif name in DAILY:
            assert isinstance(node.partitions_def, dg.DailyPartitionsDefinition), name
        else:
            assert node.partitions_def is not None and node.partitions_def.name == "snapshots", name


def test_checks_sensors_schedule_and_jobs_are_defined():
    checks = {key.name for key in _graph().asset_check_keys}
    assert checks == {
        "non_empty",
        "unique_paper_id",
        "no_empty_titles",
        "ranks_contiguous",
        "raw_listing_freshness",
    }
    for sensor in ("landing_sensor", "report_automation"):
        assert defs.resolve_sensor_def(sensor).default_status == dg.DefaultSensorStatus.RUNNING
    schedule = defs.resolve_schedule_def("daily_digest")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.cron_schedule == "0 7 * * *"
    assert {s.name for s in defs.schedules} == {
        "daily_digest",
        "daily_fetch",
        "hourly_freshness",
        "weekly_compaction",
    }
    assert defs.resolve_schedule_def("weekly_compaction").cron_schedule == "0 3 * * 0"
    jobs = ("snapshot_job", "digest_job", "trends_job", "fetch_job", "freshness_job")
    for job in (*jobs, "compaction_job"):
        assert defs.resolve_job_def(job) is not None
