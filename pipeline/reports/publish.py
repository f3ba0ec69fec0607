"""Storing a rendered report as versioned artifacts and publishing it under stable names."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from pipeline.artifacts import ArtifactStore, ArtifactVersion, write_atomic
from pipeline.reports.digest import CODE_VERSION, RenderedReport


@dataclass(frozen=True)
class PublishedReport:
    html: ArtifactVersion
    markdown: ArtifactVersion
    html_path: Path
    markdown_path: Path


def publish_report(
    store: ArtifactStore,
    reports_dir: Path,
    artifact: str,
    partition: str,
    report: RenderedReport,
    upstream: dict[str, str],
) -> PublishedReport:
    """Store both renderings (content-addressed) and copy them to ``<reports>/<partition>.*``."""
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
    html_path = reports_dir / artifact / f"{partition}.html"
    markdown_path = reports_dir / artifact / f"{partition}.md"
    write_atomic(html_path, report.html.encode())
    write_atomic(markdown_path, report.markdown.encode())
    return PublishedReport(html, markdown, html_path, markdown_path)


def publish_latest(published: PublishedReport) -> None:
    """Point ``latest.html``/``latest.md`` beside the published files at this report."""
    for source in (published.html_path, published.markdown_path):
        target = source.with_name("latest" + source.suffix)
        tmp = target.with_name("." + target.name + ".tmp")
        shutil.copyfile(source, tmp)
        tmp.replace(target)
