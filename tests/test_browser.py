"""The HTML reports in a real browser: headless Chromium (Debian's `chromium`).

Screenshots go to test-artifacts/ for a person to look at.
"""

import os
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from pipeline import warehouse
from pipeline.home import REPO_ROOT, Home
from pipeline.reports import digest, trends
from tests.conftest import listing, load_dump, sample_papers

pytestmark = pytest.mark.slow
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    path = os.environ.get("PAPERLAKE_CHROMIUM") or shutil.which("chromium")
    if not path:
        pytest.fail(
            "Chromium is needed for the browser tests: apt-get install chromium (.ci/run does)"
        )
    return path


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    """The sample's digest, a later digest with trends, and the trend report, as HTML files."""
    papers = sample_papers()
    home = Home(tmp_path_factory.mktemp("browser"))
    out = tmp_path_factory.mktemp("pages")
    with warehouse.session(home) as con:
        load_dump(con, "sample", listing(papers), date(2026, 11, 26))
        sample = digest.render_digest(digest.load_digest(con, "sample"))
        grokking = [p for p in papers if "grokking" in (p[0] + p[1]).lower()]
        for i in range(3):
            day = [p for p in papers[i * 15 : i * 15 + 150] if p not in grokking] + (
                grokking if i == 2 else []
            )
            load_dump(con, f"day{i}", listing(day), date(2026, 11, 27) + timedelta(days=i))
        later = digest.render_digest(digest.load_digest(con, "day2"))
        trend = trends.render_trends(trends.load_trends(con))
    files = {}
    for name, rendered in (
        ("digest-sample", sample),
        ("digest-trends", later),
        ("trend-report", trend),
    ):
        files[name] = out / f"{name}.html"
        files[name].write_text(rendered.html, encoding="utf-8")
    return files


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


def _open(browser, path: Path, width: int):
    page = browser.new_page(viewport={"width": width, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "request",
        lambda r: (
            problems.append(f"network: {r.url}")
            if not r.url.startswith(("file:", "data:"))
            else None
        ),
    )
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, problems


@pytest.mark.parametrize(
    ("name", "sections", "min_charts"),
    [
        ("digest-sample", ["#top-papers", "#trends", "#code"], 1),
        ("digest-trends", ["#top-papers", "#trends", "#code", "#chart-movers", "#chart-code"], 4),
        ("trend-report", ["#keywords", "#topics", "#papers", "#chart-series", "#chart-ranks"], 3),
    ],
)
def test_report_renders_cleanly(browser, pages, name, sections, min_charts):
    page, problems = _open(browser, pages[name], 1100)
    for selector in sections:
        assert page.locator(selector).count() == 1, selector
    boxes = [chart.bounding_box() for chart in page.locator("svg.chart").all()]
    assert len(boxes) >= min_charts
    assert all(box and box["width"] > 100 and box["height"] > 50 for box in boxes), boxes
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    assert problems == [], problems
    page.close()


def test_digest_fits_a_phone_screen(browser, pages):
    page, problems = _open(browser, pages["digest-trends"], 390)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    page.screenshot(path=str(ARTIFACTS / "digest-phone.png"), full_page=False)
    assert overflow <= 1, f"{overflow}px of horizontal scrolling on a phone"
    assert problems == []
    page.close()


def test_related_papers_expand(browser, pages):
    page, _ = _open(browser, pages["digest-sample"], 1100)
    details = page.locator("#top-papers details").first
    assert not details.locator("ul.related").is_visible()
    details.locator("summary").click()
    assert details.locator("ul.related li").count() == 3
    assert details.locator("ul.related").is_visible()
    page.close()
