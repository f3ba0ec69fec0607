"""The whole graph for one partition, in process, against a real instance and warehouse."""

import hashlib

import dagster as dg

from assets.jobs import snapshot_job
from assets.resources import PaperlakeResource
from pipeline import warehouse
from pipeline.definitions import defs
from tests.conftest import listing, materialize_snapshot, sample_papers

SNAPSHOT = "hf-trending-2026-11-26"


def _all_assets_and_checks():
    assets_defs = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition)]
    return [*assets_defs, *defs.asset_checks]


def _materialize(instance, landing_file: str, *, raise_on_error: bool = True, key: str = SNAPSHOT):
    """Every asset of a snapshot (what snapshot_job runs), in process."""
    if not instance.has_dynamic_partition("snapshots", key):
        instance.add_dynamic_partitions("snapshots", [key])
    return dg.materialize(
        _all_assets_and_checks(),
        selection=snapshot_job.selection,
        instance=instance,
        partition_key=key,
        resources={"paperlake": PaperlakeResource()},
        run_config={"ops": {"raw_listing": {"config": {"landing_file": landing_file}}}},
        raise_on_error=raise_on_error,
    )


def _data_versions(instance) -> dict[str, str]:
    versions = {}
    for key in snapshot_job.selection.resolve(defs.resolve_asset_graph()):
        event = instance.get_latest_materialization_event(key)
        versions[key.to_user_string()] = event.asset_materialization.tags["dagster/data_version"]
    return versions


def test_whole_graph_for_one_partition(home, instance, sample_bytes):
    (home.landing / f"{SNAPSHOT}.txt").write_bytes(sample_bytes)
    result = _materialize(instance, f"{SNAPSHOT}.txt")

    assert result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {
        "non_empty": True,
        "unique_paper_id": True,
        "no_empty_titles": True,
        "ranks_contiguous": True,
    }
    assert not (home.landing / f"{SNAPSHOT}.txt").exists(), (
        "accepted dumps leave the landing folder"
    )
    with warehouse.session(home, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM latest_papers").fetchone()[0] == 248
        assert con.execute("SELECT n_papers FROM snapshots").fetchone()[0] == 248
    report = (home.reports / "snapshot_report" / "latest.html").read_text()
    assert "Codebook Features" in report
    materialization = result.asset_materializations_for_node("papers")[0]
    assert materialization.metadata["dagster/row_count"].value == 248
    assert "preview" in materialization.metadata
    partition_rows = {
        m.asset_key.path[-1]: m.metadata["dagster/partition_row_count"].value
        for m in result.asset_materializations_for_node("warehouse_tables")
    }
    with warehouse.session(home, read_only=True) as con:
        keyphrases = "SELECT keyphrase FROM paper_keywords WHERE snapshot_id = ?"
        assert partition_rows["papers"] == 248
        assert partition_rows["listings"] == 248
        assert (
            partition_rows["keywords"]
            == con.execute(
                f"SELECT count(*) FROM keywords WHERE keyphrase IN ({keyphrases})", [SNAPSHOT]
            ).fetchone()[0]
            > 100
        )
        n_edges = con.execute("SELECT count(*) FROM related_edges").fetchone()[0]
        strongest = con.execute(
            "SELECT p.title, r.title, q.score FROM related_edges q JOIN papers p USING (paper_id) "
            "JOIN papers r ON r.paper_id = q.related_id "
            "ORDER BY q.score DESC, q.paper_id, q.related_id LIMIT 10"
        ).fetchall()
    (related,) = result.asset_materializations_for_node("warehouse__related_papers")
    assert related.metadata["edges_written"].value == n_edges > 1000
    assert related.metadata["dagster/row_count"].value == n_edges
    shown = related.metadata["strongest_links"].value.splitlines()[2:]
    assert len(shown) == len(strongest) == 10
    for line, (title, related_title, score) in zip(shown, strongest, strict=True):
        assert line.startswith(f"| {' '.join(title.split())[:40]}") and f"| {score} |" in line
        assert f"| {' '.join(related_title.split())[:40]}" in line


def test_identical_rerun_keeps_every_data_version(home, instance, sample_bytes):
    (home.landing / f"{SNAPSHOT}.txt").write_bytes(sample_bytes)
    _materialize(instance, f"{SNAPSHOT}.txt")
    first = _data_versions(instance)
    (home.landing / f"{SNAPSHOT}.txt").write_bytes(sample_bytes)
    _materialize(instance, f"{SNAPSHOT}.txt")
    assert _data_versions(instance) == first
    assert first["raw_listing"] == hashlib.sha256(sample_bytes).hexdigest()


def test_rejected_dump_fails_the_run_and_is_quarantined(home, instance):
    (home.landing / "broken.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    result = _materialize(instance, "broken.txt", raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "PNG image" in failure.step_failure_data.user_failure_data.description
    assert sorted(p.name.split("-", 1)[1] for p in home.quarantine.iterdir()) == [
        "broken.txt",
        "broken.txt.reason.json",
    ]
    assert not home.catalog.exists(), "nothing reached the warehouse"


def test_a_bad_redrop_leaves_stored_snapshots_intact_and_others_keep_flowing(
    home, instance, sample_bytes
):
    (home.landing / f"{SNAPSHOT}.txt").write_bytes(sample_bytes)
    _materialize(instance, f"{SNAPSHOT}.txt")
    before = _data_versions(instance)
    with warehouse.session(home, read_only=True) as con:
        rows_before = con.execute("SELECT count(*) FROM listings").fetchone()[0]

    (home.landing / f"{SNAPSHOT}.txt").write_bytes(b"<html><body>oops</body></html>")
    assert not _materialize(instance, f"{SNAPSHOT}.txt", raise_on_error=False).success
    assert _data_versions(instance) == before
    with warehouse.session(home, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM listings").fetchone()[0] == rows_before

    later = "hf-trending-2026-11-27"
    (home.landing / f"{later}.txt").write_bytes(sample_bytes.replace(b"Codebook", b"Codex"))
    assert _materialize(instance, f"{later}.txt", key=later).success
    with warehouse.session(home, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM snapshots").fetchone()[0] == 2


def test_a_digest_whose_snapshot_is_reloaded_while_it_renders_is_rendered_again(
    home, instance, monkeypatch
):
    """The digest renders without the writer lock; if its snapshot is reloaded meanwhile, the
    older rendering is not published over the newer one: it renders again from the new load."""
    from pipeline.reports import digest

    first, second = sample_papers()[:30], sample_papers()[30:60]
    materialize_snapshot(instance, home, SNAPSHOT, listing(first))
    render, rendered = digest.render_digest, []

    def reload_during_first_render(data):
        rendered.append(data.papers[0].title)
        if len(rendered) == 1:  # another run reloads the snapshot meanwhile
            materialize_snapshot(instance, home, SNAPSHOT, listing(second))
        return render(data)

    monkeypatch.setattr(digest, "render_digest", reload_during_first_render)
    result = dg.materialize(
        [a for a in defs.assets if isinstance(a, dg.AssetsDefinition)],
        instance=instance,
        partition_key=SNAPSHOT,
        resources={"paperlake": PaperlakeResource()},
        selection=dg.AssetSelection.assets("snapshot_report"),
    )
    assert result.success
    # the first rendering (old load), the other run's, and this run's again (new load)
    assert rendered == [first[0][0], second[0][0], second[0][0]]
    latest = (home.reports / "snapshot_report" / "latest.html").read_text()
    assert second[0][0] in latest and first[0][0] not in latest
