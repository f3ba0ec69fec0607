"""The trend report over the whole history: keyword time series, rising topics, rank histories."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb

from pipeline.reports import charts
from pipeline.reports.digest import CODE_VERSION, RenderedReport, run_query
from pipeline.reports.render import render

__all__ = ["CODE_VERSION", "TrendReport", "load_trends", "render_trends"]

HISTORY = 30
RECENT = 7
BASELINE = 28
TOP = 8
MIN_SUPPORT = 5
PRIOR = 1000.0


@dataclass(frozen=True)
class TopicMove:
    keyphrase: str
    recent: int
    baseline: int
    z: float


@dataclass(frozen=True)
class RankHistory:
    title: str
    n_snapshots: int
    first_seen: date
    current_rank: int | None
    first_rank: int
    ranks: list[tuple[date, int]]

    @property
    def gain(self) -> int:
        return self.first_rank - self.current_rank if self.current_rank else 0

    @property
    def sparkline(self) -> str:
        # higher is better on a sparkline, so ranks are negated
        return charts.sparkline([-rank for _, rank in self.ranks])


def comparison_windows(n_snapshots: int) -> tuple[int, int]:
    """How many latest snapshots to compare with how many before them: a week against four
    weeks once there is that much history, the later half against the earlier half before."""
    recent = min(RECENT, n_snapshots // 2)
    return recent, min(BASELINE, n_snapshots - recent)


@dataclass(frozen=True)
class TrendReport:
    recent: int
    baseline: int
    n_snapshots: int
    first_day: date | None
    last_day: date | None
    n_papers: int
    series: dict[str, list[tuple[date, float]]] = field(default_factory=dict)
    rising: list[TopicMove] = field(default_factory=list)
    falling: list[TopicMove] = field(default_factory=list)
    longest: list[RankHistory] = field(default_factory=list)
    climbers: list[RankHistory] = field(default_factory=list)


def load_trends(con: duckdb.DuckDBPyConnection) -> TrendReport:
    """Everything the trend report shows, read from the warehouse."""
    n_snapshots, first_day, last_day = con.execute(
        "SELECT count(*), min(observed_on), max(observed_on) FROM snapshots"
    ).fetchone()
    n_papers = con.execute("SELECT count(*) FROM papers").fetchone()[0]
    series = {
        display: [(point["day"], point["share"]) for point in points]
        for display, points in run_query(
            con,
            "trend_series",
            keys=[key for (key,) in run_query(con, "frequent_keyphrases", top=TOP)],
            top=TOP,
            history=HISTORY,
        )
    }
    recent, baseline = comparison_windows(n_snapshots)
    moves = [
        TopicMove(*row)
        for row in run_query(
            con,
            "trend_movers",
            recent=recent,
            baseline=baseline,
            prior=PRIOR,
            min_support=MIN_SUPPORT,
        )
    ]
    histories = run_query(con, "trend_papers", history=HISTORY, top=TOP)

    def history(row: tuple) -> RankHistory:
        return RankHistory(*row[1:6], ranks=[(r["day"], r["rank"]) for r in row[6]])

    return TrendReport(
        recent=recent,
        baseline=baseline,
        n_snapshots=n_snapshots,
        first_day=first_day,
        last_day=last_day,
        n_papers=n_papers,
        series=series,
        rising=[m for m in moves if m.z > 0][:TOP],
        falling=sorted((m for m in moves if m.z < 0), key=lambda m: m.z)[:TOP],
        longest=[history(row) for row in histories if row[0] == "longest"],
        climbers=[history(row) for row in histories if row[0] == "climber"],
    )


def trend_charts(report: TrendReport) -> dict[str, str]:
    """Inline SVG charts of the trend report, by name; absent when there is nothing to draw."""
    result = {}
    if report.series and report.n_snapshots > 1:
        result["series"] = charts.series_chart(
            report.series, "papers with keyphrase (%)", percent=True
        )
    if report.rising or report.falling:
        result["movers"] = charts.movers_chart(
            [(m.keyphrase, m.z) for m in report.rising],
            [(m.keyphrase, m.z) for m in report.falling],
        )
    trending = [h for h in report.longest[:5] if len(h.ranks) > 1]
    if trending:
        result["ranks"] = charts.series_chart(
            {_short(h.title): h.ranks for h in trending}, "rank", invert=True
        )
    return result


def _short(title: str, limit: int = 48) -> str:
    return title if len(title) <= limit else title[: limit - 1] + "…"


def render_trends(report: TrendReport) -> RenderedReport:
    """The trend report as Markdown and self-contained HTML."""
    return RenderedReport(
        markdown=render("trends.md.j2", t=report, min_support=MIN_SUPPORT),
        html=render(
            "trends.html.j2", t=report, charts=trend_charts(report), min_support=MIN_SUPPORT
        ),
    )
