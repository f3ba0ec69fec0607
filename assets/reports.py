"""Reports: the per-snapshot digest (HTML + Markdown)."""

import dagster as dg

from assets.partitions import snapshots
from assets.resources import PaperlakeResource
from assets.snapshot import OWNERS
from assets.warehouse import TABLES
from pipeline import warehouse
from pipeline.reports import digest
from pipeline.reports.publish import publish_latest, publish_report


@dg.asset(
    partitions_def=snapshots,
    group_name="reports",
    kinds={"html", "markdown"},
    owners=OWNERS,
    code_version=digest.CODE_VERSION,
    deps=[dg.AssetKey(["warehouse", table]) for table in [*TABLES, "related_papers"]],
)
def snapshot_report(
    context: dg.AssetExecutionContext, paperlake: PaperlakeResource
) -> dg.MaterializeResult:
    """The daily digest of a snapshot: paper counts (new, returned, dropped out), the top papers
    with rank changes, keyphrases, code links and an abstract excerpt, and where the code is.
    Written as self-contained HTML and as Markdown; the Markdown is previewed here."""
    key = context.partition_key
    home = paperlake.paths
    with warehouse.session(home, read_only=True) as con:
        data = digest.load_digest(con, key)
        latest = con.execute("SELECT snapshot_id FROM latest_snapshot").fetchone()
    rendered = digest.render_digest(data)
    upstream = {"papers": paperlake.store.require("papers", key).version}
    published = publish_report(
        paperlake.store, home.reports, "snapshot_report", key, rendered, upstream
    )
    if latest and latest[0] == key:
        publish_latest(published)
    return dg.MaterializeResult(
        data_version=dg.DataVersion(published.html.version),
        metadata={
            "html": dg.MetadataValue.path(str(published.html_path)),
            "markdown": dg.MetadataValue.path(str(published.markdown_path)),
            "preview": dg.MetadataValue.md(rendered.markdown),
            "papers": data.n_papers,
            "new": data.n_new,
            "with_code": data.n_with_code,
        },
    )
