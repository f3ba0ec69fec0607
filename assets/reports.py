"""Reports: the per-snapshot digest, its mail delivery, the trend report and the Atom feed."""

import os
from datetime import UTC

import dagster as dg

from assets.partitions import snapshots
from assets.resources import PaperlakeResource
from assets.snapshot import OWNERS
from assets.warehouse import TABLES
from pipeline import delivery, warehouse
from pipeline.home import REPORTS
from pipeline.reports import digest, trends
from pipeline.reports.digest import RenderedReport
from pipeline.reports.feed import FeedEntry, atom_feed
from pipeline.reports.publish import PublishedReport, publish_latest, publish_report

WAREHOUSE_TABLES = [dg.AssetKey(["warehouse", t]) for t in [*TABLES, "related_papers"]]
FEED_SIZE = 30
# Renderings of a digest before giving up while its snapshot keeps being reloaded.
RENDER_ATTEMPTS = 3
# One sender checks and records each digest's mail, so a digest goes out once.
MAIL_LOCK = "mail"
# One writer at a time of the reports over all snapshots (the trend report, the feed).
REPORTS_LOCK = "reports"
# Seconds before the first retry of a failed mail; doubles with each of the 3 retries.
MAIL_RETRY_DELAY = float(os.environ.get("PAPERLAKE_MAIL_RETRY_DELAY", "30"))
# Re-render when what a report reads has really changed, not on every materialization.
ON_NEW_DATA = (
    dg.AutomationCondition.any_deps_match(dg.AutomationCondition.data_version_changed())
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
)


@dg.asset(
    partitions_def=snapshots,
    group_name="reports",
    kinds={"html", "markdown"},
    owners=OWNERS,
    code_version=digest.CODE_VERSION,
    deps=WAREHOUSE_TABLES,
)
def snapshot_report(
    context: dg.AssetExecutionContext, paperlake: PaperlakeResource
) -> dg.MaterializeResult:
    """The daily digest of a snapshot: paper counts (new, returned, dropped out), the top papers
    with rank changes, keyphrases, code links, an abstract excerpt and related papers, rising and
    falling keywords with charts, and where the code is. Self-contained HTML and Markdown; the
    Markdown is previewed here."""
    key = context.partition_key
    home = paperlake.paths
    # The digest is read and rendered without the writer lock (other runs keep loading), then
    # published under it, unless the snapshot was reloaded meanwhile: then it is rendered again,
    # so an older rendering never replaces a newer one.
    for _ in range(RENDER_ATTEMPTS):
        with warehouse.session(home, read_only=True, search=False) as con:
            # the version first: a reload committed while the digest is read changes it
            loaded = _load_version(con, key)
            data = digest.load_digest(con, key)
        rendered = digest.render_digest(data)
        with warehouse.session(home) as con:
            if _load_version(con, key) != loaded:
                context.log.info(f"{key} was reloaded while its digest rendered: rendering again")
                continue
            published = publish_report(
                paperlake.store,
                home.shared.child(REPORTS),
                "snapshot_report",
                key,
                rendered,
                {"papers": paperlake.store.require("papers", key).version},
            )
            latest = con.execute("SELECT snapshot_id FROM latest_snapshot").fetchone()
            if latest and latest[0] == key:
                publish_latest(published)
            warehouse.record_versions(
                con, paperlake.store, [("snapshot_report_html", key), ("snapshot_report_md", key)]
            )
            break
    else:
        raise dg.Failure(
            description=f"{key} was reloaded {RENDER_ATTEMPTS} times while its digest rendered; "
            "materialize snapshot_report again once the loads are done"
        )
    return _report_result(
        published,
        rendered,
        papers=data.n_papers,
        new=data.n_new,
        nothing_new=data.nothing_new,
        with_code=data.n_with_code,
    )


@dg.asset(
    partitions_def=snapshots,
    group_name="reports",
    kinds={"email"},
    owners=OWNERS,
    code_version=digest.CODE_VERSION,
    deps=[snapshot_report],
    retry_policy=dg.RetryPolicy(
        max_retries=3, delay=MAIL_RETRY_DELAY, backoff=dg.Backoff.EXPONENTIAL
    ),
)
def digest_mail(
    context: dg.AssetExecutionContext, paperlake: PaperlakeResource
) -> dg.MaterializeResult:
    """Mails the snapshot's digest (HTML with a plain-text part) to PAPERLAKE_MAIL_TO over the
    SMTP server in PAPERLAKE_SMTP_*. Sends each snapshot's digest once: a digest re-rendered for
    the same papers, or one with no new papers, is not sent. A failed send is retried with backoff and fails only this
    asset, never the report."""
    key = context.partition_key
    store = paperlake.store
    try:
        settings = delivery.MailSettings.from_env()
    except delivery.MailConfigError as error:
        raise dg.Failure(description=str(error)) from None
    if settings is None:
        return _mail_status("mail not configured (set PAPERLAKE_SMTP_HOST and PAPERLAKE_MAIL_TO)")
    with warehouse.exclusive(paperlake.paths, MAIL_LOCK):
        html = store.require("snapshot_report_html", key)
        markdown = store.require("snapshot_report_md", key)
        papers = store.require("papers", key)
        sent = store.current("digest_mail", key)
        # A digest re-rendered for the same papers (a banner added, say) is not news: one mail each.
        if sent is not None and sent.extra.get("papers_version") == papers.version:
            return _mail_status(
                f"already sent on {sent.created_at}: no new snapshot, no duplicate mail"
            )
        with warehouse.session(paperlake.paths, read_only=True, search=False) as con:
            data = digest.load_digest(con, key)
        if data.nothing_new:
            return _mail_status(f"no new papers in {key}: no mail sent")
        subject = (
            f"Trending papers {data.observed_on.isoformat()}: {data.n_new} new of {data.n_papers}"
        )
        message = delivery.digest_message(
            settings,
            subject,
            html=store.storage.read(html.blob).decode("utf-8"),
            text=store.storage.read(markdown.blob).decode("utf-8"),
        )
        context.log.info(f"sending {subject!r} via {settings.describe()['server']}")
        delivery.send(settings, message)
        record = store.put(
            "digest_mail",
            key,
            bytes(message),
            suffix=".eml",
            code_version=digest.CODE_VERSION,
            upstream={"snapshot_report_html": html.version},
            extra={
                "papers_version": papers.version,
                "report_version": html.version,
                "recipients": list(settings.recipients),
                "subject": subject,
            },
        )
        _record(paperlake, [("digest_mail", key)])
        return _mail_status(
            f"sent to {len(settings.recipients)} recipient(s)", record.path, settings.describe()
        )


def _load_version(con, key: str) -> str | None:
    """The version of the snapshot's current load (None before it is loaded)."""
    row = con.execute("SELECT version FROM snapshots WHERE snapshot_id = ?", [key]).fetchone()
    return row[0] if row else None


def _report_result(
    published: PublishedReport, rendered: RenderedReport, **counts: object
) -> dg.MaterializeResult:
    """A published report's materialization: its files, a Markdown preview and ``counts``."""
    return dg.MaterializeResult(
        data_version=dg.DataVersion(published.html.version),
        metadata={
            "html": dg.MetadataValue.path(published.html_url),
            "markdown": dg.MetadataValue.path(published.markdown_url),
            "preview": dg.MetadataValue.md(rendered.markdown),
            **counts,
        },
    )


def _record(paperlake: PaperlakeResource, partitions: list[tuple[str, str]]) -> None:
    """Mirror new artifact versions into the warehouse's artifact_versions table."""
    with warehouse.session(paperlake.paths) as con:
        warehouse.record_versions(con, paperlake.store, partitions)


def _mail_status(
    status: str, path: str | None = None, settings: dict | None = None
) -> dg.MaterializeResult:
    metadata: dict[str, object] = {"status": status}
    if path:
        metadata["message"] = dg.MetadataValue.path(path)
    if settings:
        metadata["smtp"] = dg.MetadataValue.json(settings)
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    group_name="reports",
    kinds={"html", "markdown"},
    owners=OWNERS,
    code_version=trends.CODE_VERSION,
    deps=WAREHOUSE_TABLES,
    automation_condition=ON_NEW_DATA,
)
def trend_report(paperlake: PaperlakeResource) -> dg.MaterializeResult:
    """Trends across all snapshots: keyword time series, rising and falling topics (the last week
    against the weeks before, log-odds with an informative Dirichlet prior), the longest-trending
    papers with their rank histories, and the fastest climbers. HTML with charts, and Markdown."""
    with warehouse.exclusive(paperlake.paths, REPORTS_LOCK):
        home = paperlake.paths
        with warehouse.session(home, read_only=True, search=False) as con:
            report = trends.load_trends(con)
        rendered = trends.render_trends(report)
        published = publish_report(
            paperlake.store, home.shared.child(REPORTS), "trend_report", "all", rendered, {}
        )
        publish_latest(published)
        _record(paperlake, [("trend_report_html", "all"), ("trend_report_md", "all")])
        return _report_result(published, rendered, snapshots=report.n_snapshots)


@dg.asset(
    group_name="reports",
    kinds={"atom"},
    owners=OWNERS,
    code_version=digest.CODE_VERSION,
    deps=[snapshot_report],
    automation_condition=ON_NEW_DATA,
)
def digest_feed(paperlake: PaperlakeResource) -> dg.MaterializeResult:
    """An Atom feed of the latest digests (reports/feed.xml), for feed readers. Entry links use
    PAPERLAKE_REPORTS_URL when set, else the published files' file:// addresses."""
    with warehouse.exclusive(paperlake.paths, REPORTS_LOCK):
        home = paperlake.paths
        reports = home.shared.child(REPORTS)
        base = os.environ.get("PAPERLAKE_REPORTS_URL", "").rstrip("/")
        with warehouse.session(home, read_only=True, search=False) as con:
            rows = con.execute(
                "SELECT snapshot_id, observed_on, ingested_at, n_papers FROM snapshot_sequence "
                "ORDER BY seq DESC LIMIT ?",
                [FEED_SIZE],
            ).fetchall()
            published = {
                snapshot_id: html
                for snapshot_id, *_ in rows
                if (html := paperlake.store.current("snapshot_report_html", snapshot_id))
                is not None
            }
            heads = digest.load_headlines(con, list(published))
            titles = digest.top_titles(con, list(published), 5)
        entries = [
            FeedEntry(
                snapshot_id=snapshot_id,
                version=published[snapshot_id].version,
                title=f"Trending papers {observed_on.isoformat()}: "
                f"{heads[snapshot_id].n_new} new of {n_papers}",
                summary="; ".join(titles.get(snapshot_id, [])),
                link=f"{base}/snapshot_report/{snapshot_id}.html"
                if base
                else reports.uri(f"snapshot_report/{snapshot_id}.html"),
                updated=ingested_at.astimezone(UTC),
            )
            for snapshot_id, observed_on, ingested_at, n_papers in rows
            if snapshot_id in published
        ]
        document = atom_feed(entries, f"{base}/feed.xml" if base else reports.uri("feed.xml"))
        version = paperlake.store.put(
            "digest_feed", "all", document, suffix=".xml", code_version=digest.CODE_VERSION
        )
        reports.write("feed.xml", document)
        _record(paperlake, [("digest_feed", "all")])
        return dg.MaterializeResult(
            data_version=dg.DataVersion(version.version),
            metadata={
                "path": dg.MetadataValue.path(reports.url("feed.xml")),
                "entries": len(entries),
            },
        )
