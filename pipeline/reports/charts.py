"""Static charts for the reports: matplotlib rendered to inline SVG.

The SVG is deterministic (no timestamp, fixed element ids), so an identical report renders to
identical bytes and keeps its content-addressed version. Text stays text (not paths), which keeps
the charts small and readable by screen readers.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import date
from functools import cache
from types import ModuleType

_STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "paperlake",
    "text.parse_math": False,  # keyphrases come from dumps: "$" is text, never mathtext
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#9aa5b1",
    "axes.labelcolor": "#3e4c59",
    "xtick.color": "#3e4c59",
    "ytick.color": "#3e4c59",
}
UP, DOWN, LINES = "#1f7a3d", "#b3362b", ["#2458b3", "#d97706", "#7c3aed", "#0f766e", "#be185d"]
_BLOCKS = "▁▂▃▄▅▆▇█"


@cache
def _pyplot() -> ModuleType:
    """matplotlib's pyplot on the file-only Agg backend, imported when a chart is first drawn."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot


def _svg(figure) -> str:
    plt = _pyplot()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    # width/height in pt make the chart fixed-size; a viewBox plus CSS width lets it scale.
    return re.sub(
        r'<svg([^>]*?) width="[^"]+" height="[^"]+"',
        r'<svg\1 class="chart" role="img"',
        text,
        count=1,
    )


def movers_chart(rising: Sequence[tuple[str, float]], falling: Sequence[tuple[str, float]]) -> str:
    """Diverging horizontal bars of z-scores: rising keywords right, falling left."""
    rows = sorted([*rising, *falling], key=lambda row: row[1])  # barh draws bottom-up
    plt = _pyplot()
    with plt.rc_context(_STYLE):
        figure, axes = plt.subplots(figsize=(6.4, 0.28 * max(len(rows), 2) + 0.6))
        labels = [label for label, _ in rows]
        values = [value for _, value in rows]
        axes.barh(labels, values, color=[UP if v >= 0 else DOWN for v in values], height=0.6)
        axes.axvline(0, color="#9aa5b1", linewidth=0.8)
        axes.set_xlabel("z-score against the trailing window (> 2: rising, < -2: falling)")
        axes.tick_params(axis="y", length=0)
        return _svg(figure)


def bar_chart(rows: Sequence[tuple[str, float]], x_label: str) -> str:
    """Horizontal bars, the first row on top."""
    plt = _pyplot()
    with plt.rc_context(_STYLE):
        figure, axes = plt.subplots(figsize=(6.4, 0.28 * max(len(rows), 2) + 0.6))
        ordered = list(reversed(rows))
        axes.barh(
            [label for label, _ in ordered],
            [value for _, value in ordered],
            color=LINES[0],
            height=0.6,
        )
        axes.set_xlabel(x_label)
        axes.tick_params(axis="y", length=0)
        return _svg(figure)


def series_chart(
    series: dict[str, Sequence[tuple[date, float]]],
    y_label: str,
    *,
    invert: bool = False,
    percent: bool = False,
) -> str:
    """One line per named series over dates (ranks: ``invert`` so 1 is at the top)."""
    plt = _pyplot()
    with plt.rc_context(_STYLE):
        figure, axes = plt.subplots(figsize=(6.4, 2.6))
        for (name, points), color in zip(series.items(), LINES * 4, strict=False):
            xs = [d for d, _ in points]
            ys = [100 * v if percent else v for _, v in points]
            axes.plot(xs, ys, marker="o", markersize=3, linewidth=1.6, color=color, label=name)
        axes.set_ylabel(y_label)
        days = sorted({d for points in series.values() for d, _ in points})
        step = max(1, len(days) // 8)
        axes.set_xticks(days[::step], [d.strftime("%b %d") for d in days[::step]])
        if invert:
            axes.invert_yaxis()
        elif percent:
            axes.set_ylim(bottom=0)
        if series:
            axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=8)
        figure.autofmt_xdate()
        return _svg(figure)


def sparkline(values: Sequence[float]) -> str:
    """A text sparkline (``▁▃▇``) for terminals and Markdown."""
    if not values:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    return "".join(_BLOCKS[round((v - low) / span * (len(_BLOCKS) - 1))] for v in values)
