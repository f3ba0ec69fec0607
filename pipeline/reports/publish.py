"""Storing a rendered report as versioned artifacts and publishing it under stable names."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.artifacts import ArtifactStore, ArtifactVersion
from pipeline.reports.digest import CODE_VERSION, RenderedReport
from pipeline.storage import Storage


@dataclass(frozen=True)
class PublishedReport:
    html: ArtifactVersion
    markdown: ArtifactVersion
    reports: Storage
    html_name: str
    markdown_name: str
    rendered: RenderedReport

    @property
    def html_url(self) -> str:
        return self.reports.url(self.html_name)

    @property
    def markdown_url(self) -> str:
        return self.reports.url(self.markdown_name)


def publish_report(
    store: ArtifactStore,
    reports: Storage,
    artifact: str,
    partition: str,
    report: RenderedReport,
    upstream: dict[str, str],
) -> PublishedReport:
    """Store both renderings (content-addressed) and copy them to
    ``<reports>/<artifact>/<partition>.*``."""
    html = store.put(
        f"{artifact}_html",
        partition,
        report.html.encode(),
        suffix=".html",
        code_version=CODE_VERSION,
        upstream=upstream,
    )
    markdown = store.put(
        f"{artifact}_md",
        partition,
        report.markdown.encode(),
        suffix=".md",
        code_version=CODE_VERSION,
        upstream=upstream,
    )
    html_name, markdown_name = f"{artifact}/{partition}.html", f"{artifact}/{partition}.md"
    reports.write(html_name, report.html.encode())
    reports.write(markdown_name, report.markdown.encode())
    return PublishedReport(html, markdown, reports, html_name, markdown_name, report)


def publish_latest(published: PublishedReport) -> None:
    """Make ``latest.html``/``latest.md`` beside the published files this report."""
    folder = published.html_name.rsplit("/", 1)[0]
    published.reports.write(f"{folder}/latest.html", published.rendered.html.encode())
    published.reports.write(f"{folder}/latest.md", published.rendered.markdown.encode())
