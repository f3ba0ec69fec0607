"""The digest and the trend report, rendered from a warehouse with several snapshots."""

import re
from datetime import date, timedelta

import pytest

from pipeline import warehouse
from pipeline.home import Home
from pipeline.reports import digest, trends
from pipeline.reports.render import escape_markdown, safe_url
from tests.conftest import listing, load_dump, sample_papers

DAY1 = date(2026, 11, 20)


@pytest.fixture(scope="module")
def series_home(tmp_path_factory) -> Home:
    """Four daily snapshots: a drifting window over the sample; grokking papers arrive on day 3;
    day 4 repeats day 3 exactly."""
    papers = sample_papers()
    grokking = [p for p in papers if "grokking" in (p[0] + p[1]).lower()]
    others = [p for p in papers if p not in grokking]
    # five newcomers lead day 2, one paper falls from rank 11 to 60, the rest climb
    day2 = others[125:130] + others[11:60] + [others[10]] + others[60:120] + others[120:125]
    days = [others[0:120], day2, others[20:140] + grokking]
    days.append(days[-1])
    home = Home(tmp_path_factory.mktemp("series"))
    with warehouse.session(home) as con:
        for i, papers_of_day in enumerate(days):
            load_dump(con, f"day{i + 1}", listing(papers_of_day), DAY1 + timedelta(days=i))
    return home


def _digest(home: Home, snapshot_id: str) -> tuple[digest.Digest, digest.RenderedReport]:
    with warehouse.session(home, read_only=True) as con:
        data = digest.load_digest(con, snapshot_id)
    return data, digest.render_digest(data)


def test_first_snapshot_digest(series_home):
    data, rendered = _digest(series_home, "day1")
    assert (data.n_papers, data.n_new, data.previous_id) == (120, 120, None)
    assert "the first snapshot" in rendered.markdown
    assert "No trend yet" in rendered.markdown
    for section in ('id="top-papers"', 'id="trends"', 'id="code"'):
        assert section in rendered.html


def test_rank_changes_new_and_dropped(series_home):
    data, rendered = _digest(series_home, "day2")
    assert (data.n_new, data.n_returned, data.n_dropped) == (10, 0, 10)
    assert [p.movement for p in data.papers[:6]] == ["new"] * 5 + ["▲6"]
    assert "(new)" in rendered.markdown and "(▲6)" in rendered.markdown
    with warehouse.session(series_home, read_only=True) as con:
        everything = digest.load_digest(con, "day2", top_n=200)
    assert [p.movement for p in everything.papers if p.rank == 55] == ["▼44"]


def test_headlines_of_several_snapshots_are_read_at_once(series_home):
    with warehouse.session(series_home, read_only=True) as con:
        heads = digest.load_headlines(con, ["day4", "day2", "day1", "no-such-day"])
        alone = {day: digest.load_headline(con, day) for day in ("day1", "day2", "day4")}
        with pytest.raises(LookupError, match="no-such-day"):
            digest.load_headline(con, "no-such-day")
    assert heads == alone
    assert (heads["day1"].n_new, heads["day1"].previous_id) == (120, None)
    assert (heads["day2"].n_new, heads["day2"].n_returned, heads["day2"].n_dropped) == (10, 0, 10)
    assert heads["day4"].nothing_new and heads["day4"].previous_id == "day3"


def test_rising_keywords_and_charts(series_home):
    data, rendered = _digest(series_home, "day3")
    rising = {m.keyphrase.lower(): m for m in data.rising}
    assert "grokking" in rising
    assert rising["grokking"].z > 2
    assert rising["grokking"].window_doc_freq == 0
    assert 'id="chart-movers"' in rendered.html and "<svg" in rendered.html
    assert rising["grokking"].sparkline.endswith("█")


def test_related_papers_expand_in_html(series_home):
    _, rendered = _digest(series_home, "day3")
    assert "<details>" in rendered.html and "Related papers (3)" in rendered.html


def test_each_digest_paper_shows_its_three_nearest_neighbours(series_home):
    data, _ = _digest(series_home, "day3")
    with warehouse.session(series_home, read_only=True) as con:
        expected = {
            paper_id: related
            for paper_id, related in con.execute(
                "SELECT r.paper_id, list((q.title, r.score, r.shared_terms) ORDER BY r.rank) "
                "FROM related_papers r JOIN papers q ON q.paper_id = r.related_id "
                "WHERE r.rank <= 3 GROUP BY r.paper_id"
            ).fetchall()
        }
    assert len(data.papers) == digest.TOP_N
    for paper in data.papers:
        shown = [(r.title, r.score, r.shared) for r in paper.related]
        assert shown == [tuple(row) for row in expected[paper.paper_id]]


def test_a_snapshot_without_new_papers_says_so(series_home):
    data, rendered = _digest(series_home, "day4")
    assert data.nothing_new
    assert "No new papers in this snapshot." in rendered.markdown
    assert 'id="nothing-new"' in rendered.html


def test_rendering_is_deterministic(series_home):
    assert _digest(series_home, "day3")[1] == _digest(series_home, "day3")[1]


def test_trend_report(series_home):
    with warehouse.session(series_home, read_only=True) as con:
        report = trends.load_trends(con)
    rendered = trends.render_trends(report)
    assert report.n_snapshots == 4 and report.last_day == DAY1 + timedelta(days=3)
    assert report.series and all(len(points) == 4 for points in report.series.values())
    assert (report.recent, report.baseline) == (2, 2)
    assert "grokking" in [m.keyphrase.lower() for m in report.rising]
    assert report.longest and report.longest[0].n_snapshots == 4
    assert report.climbers and all(h.gain > 0 for h in report.climbers)
    assert 'id="chart-series"' in rendered.html and 'id="chart-ranks"' in rendered.html
    assert "## Longest-trending papers" in rendered.markdown


def test_trend_report_rank_histories_follow_the_listings(series_home):
    """Longest-trending papers and climbers, recomputed in Python from the listings."""
    with warehouse.session(series_home, read_only=True) as con:
        report = trends.load_trends(con)
        days = dict(con.execute("SELECT snapshot_id, observed_on FROM snapshots").fetchall())
        listed = con.execute(
            "SELECT l.snapshot_id, l.paper_id, l.rank, p.title, p.n_snapshots, p.first_seen "
            "FROM listings l JOIN papers p USING (paper_id)"
        ).fetchall()
    latest = max(days, key=days.get)
    papers: dict[str, dict] = {}
    for snapshot_id, _, rank, title, n_snapshots, first_seen in sorted(
        listed, key=lambda row: days[row[0]]
    ):
        paper = papers.setdefault(title, {"n": n_snapshots, "first": first_seen, "ranks": []})
        paper["ranks"].append((days[snapshot_id], rank))
        if snapshot_id == latest:
            paper["current"] = rank

    def history(title: str) -> trends.RankHistory:
        paper = papers[title]
        first_rank = paper["ranks"][0][1]
        return trends.RankHistory(
            title, paper["n"], paper["first"], paper.get("current"), first_rank, paper["ranks"]
        )

    everyone = [history(title) for title in papers]
    longest = sorted(everyone, key=lambda h: (-h.n_snapshots, h.current_rank or 10**9, h.title))[
        : trends.TOP
    ]
    climbers = sorted(
        (h for h in everyone if h.current_rank and h.first_rank > h.current_rank),
        key=lambda h: (-h.gain, h.current_rank, h.title),
    )[: trends.TOP]
    assert report.longest == longest
    assert report.climbers == climbers and climbers


HOSTILE = [
    (
        "<script>alert('title')</script> Deep [click](javascript:alert(1)) Networks",
        "We study <img src=x onerror=alert(1)> networks and **bold** claims in depth here. "
        "See [here](javascript:alert(2)) and https://github.com/evil/repo for code.",
    ),
    (
        "A Normal Paper About Transformers",
        "Transformers are studied in this abstract, which is long enough to be one. It is fine.",
    ),
]


def test_dump_text_is_inert_in_html_and_markdown(home):
    with warehouse.session(home) as con:
        load_dump(con, "hostile", listing(HOSTILE), DAY1)
        data = digest.load_digest(con, "hostile")
    rendered = digest.render_digest(data)
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert "<img" not in rendered.html
    assert 'href="javascript' not in rendered.html
    assert 'href="https://github.com/evil/repo"' in rendered.html
    assert not re.search(r"(?<!\\)\]\(javascript:", rendered.markdown), "no live link"
    assert "<script>" not in rendered.markdown and "&lt;script&gt;" in rendered.markdown
    assert "\\[click\\]" in rendered.markdown


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://github.com/a/b", True),
        ("http://example.org", True),
        ("javascript:alert(1)", False),
        ("data:text/html,<script>", False),
        ("//example.org/x", False),
        ("ftp://example.org/f", False),
    ],
)
def test_only_http_links_become_anchors(url, safe):
    assert (safe_url(url) is not None) is safe


def test_markdown_escaping():
    assert escape_markdown("[x](javascript:y) *a* <b>") == "\\[x\\](javascript:y) \\*a\\* &lt;b&gt;"


def test_rank_histories_include_papers_last_seen_on_the_first_day_of_the_period(home):
    """Papers are read from those last seen in the period or later: one listed only on its first
    day is still a candidate."""
    papers = sample_papers()
    with warehouse.session(home) as con:
        load_dump(con, "day1", listing(papers[:3]), DAY1, link_related=False)
        load_dump(con, "day2", listing(papers[3:5]), DAY1 + timedelta(days=1), link_related=False)
        report = trends.load_trends(con)
    titles = {history.title for history in report.longest}
    assert titles == {title for title, _ in papers[:5]}
