"""Charts of a printable document drawn server-side as PNG (matplotlib, Agg), the same picture in
the Word file and in the PDF.

Thread-safe: figures are `matplotlib.figure.Figure` objects with their own Agg canvas (no pyplot,
no global figure registry, no rcParams changes); every text gets its font explicitly. The output
is deterministic: same chart, same bytes (no timestamp or version in the PNG metadata)."""

from __future__ import annotations

import functools
import io
import math
import threading
import warnings
from collections import OrderedDict
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot; the OO API below never needs it

from matplotlib.axes import Axes  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.font_manager import FontProperties, fontManager  # noqa: E402

from .model import Chart  # noqa: E402

DPI = 150
# Families tried in order; the first installed wins (Debian fonts-noto-cjk gives the first).
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "SimHei",
    "Microsoft YaHei",
)
PALETTE = ("#2f5597", "#c55a11", "#548235", "#bf9000", "#7030a0", "#1f7a8c", "#a5a5a5", "#843c0c")
MARK_COLOR = "#c00000"
NO_DATA = "（无数据）"
CACHE_SIZE = 32
_cache: OrderedDict[tuple[str, float, bool], bytes] = OrderedDict()
_cache_lock = threading.Lock()


@functools.cache
def font_families() -> tuple[str, ...]:
    """The installed CJK family (if any) followed by matplotlib's default sans for Latin/digits."""
    installed = {entry.name for entry in fontManager.ttflist}
    found = [name for name in CJK_FAMILIES if name in installed]
    return (*found[:1], "DejaVu Sans")


def _font(size: float, *, bold: bool = False) -> FontProperties:
    return FontProperties(family=list(font_families()), size=size, weight="bold" if bold else "normal")


def _wrap(label: str, width: int) -> str:
    """Break a long category label (Chinese has no spaces) every `width` characters."""
    if len(label) <= width:
        return label
    return "\n".join(label[i : i + width] for i in range(0, len(label), width))


def _fmt(value: float) -> str:
    if float(value).is_integer() or abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _values(chart: Chart) -> list[float]:
    found = [v for s in chart.series for v in s.values if v is not None and math.isfinite(v)]
    return found + [value for _, value in chart.marks]


def _value_limits(chart: Chart) -> tuple[float, float]:
    values = _values(chart) or [0.0, 1.0]
    low, high = min(0.0, *values), max(0.0, *values)
    if chart.kind == "line" and min(values) > 0:
        low = min(values) * 0.9 if min(values) > (max(values) - min(values)) else 0.0
    span = (high - low) or 1.0
    return (low - span * 0.05 if low < 0 else low), high + span * 0.12


def _draw_bars(ax: Axes, chart: Chart, horizontal: bool, small: float) -> None:
    n_series = max(len(chart.series), 1)
    group = 0.8
    bar = group / n_series
    show_labels = len(chart.categories) * n_series <= 24
    for index, series in enumerate(chart.series):
        positions: list[float] = []
        heights: list[float] = []
        for position, value in enumerate(series.values[: len(chart.categories)]):
            if value is None or not math.isfinite(value):
                continue  # no value at that category: no bar
            positions.append(position - group / 2 + bar * (index + 0.5))
            heights.append(value)
        color = PALETTE[index % len(PALETTE)]
        if horizontal:
            bars = ax.barh(positions, heights, height=bar * 0.92, color=color, label=series.name)
        else:
            bars = ax.bar(positions, heights, width=bar * 0.92, color=color, label=series.name)
        if show_labels and heights:
            ax.bar_label(bars, labels=[_fmt(h) for h in heights], padding=2, fontproperties=_font(small))


def _draw_lines(ax: Axes, chart: Chart) -> None:
    for index, series in enumerate(chart.series):
        ys = [math.nan if v is None else float(v) for v in series.values[: len(chart.categories)]]
        xs = list(range(len(ys)))
        # NaN breaks the line: a missing value is a gap, not a guess
        ax.plot(
            xs,
            ys,
            marker="o",
            markersize=4,
            linewidth=1.8,
            color=PALETTE[index % len(PALETTE)],
            label=series.name,
        )


def _draw_marks(ax: Axes, chart: Chart, horizontal: bool, small: float) -> None:
    box = {"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.0}
    for label, value in chart.marks:
        if horizontal:
            ax.axvline(value, linestyle="--", linewidth=1.1, color=MARK_COLOR, zorder=3)
            ax.text(
                value,
                1.0,
                f" {label} {_fmt(value)}",
                transform=ax.get_xaxis_transform(),
                ha="left",
                va="bottom",
                color=MARK_COLOR,
                fontproperties=_font(small),
                bbox=box,
                zorder=4,
            )
        else:
            ax.axhline(value, linestyle="--", linewidth=1.1, color=MARK_COLOR, zorder=3)
            ax.text(
                1.0,
                value,
                f"{label} {_fmt(value)} ",
                transform=ax.get_yaxis_transform(),
                ha="right",
                va="bottom",
                color=MARK_COLOR,
                fontproperties=_font(small),
                bbox=box,
                zorder=4,
            )


def _category_axis(ax: Axes, categories: Sequence[str], horizontal: bool, size: float) -> None:
    positions = list(range(len(categories)))
    if horizontal:
        ax.set_yticks(positions, labels=[_wrap(c, 14) for c in categories], fontproperties=_font(size))
        ax.invert_yaxis()  # first category on top, as it reads in the table
        ax.set_ylim(len(categories) - 0.5, -0.5)
        return
    crowded = len(categories) > 6 or max((len(c) for c in categories), default=0) > 6
    labels = [_wrap(c, 10 if crowded else 6) for c in categories]
    ax.set_xticks(positions, labels=labels, fontproperties=_font(size))
    if crowded:
        for text in ax.get_xticklabels():
            text.set_rotation(30)
            text.set_horizontalalignment("right")
            text.set_rotation_mode("anchor")
    ax.set_xlim(-0.6, len(categories) - 0.4)


def _figure_size(chart: Chart, width_cm: float) -> tuple[float, float]:
    width = width_cm / 2.54
    height = width * 0.56
    if chart.kind == "barh":
        rows = len(chart.categories) * max(1, min(len(chart.series), 3))
        height = max(height * 0.7, 0.26 * rows + 1.3)
    return width, min(height, width * 1.4)


def render_png(chart: Chart, *, width_cm: float = 15.0, show_title: bool = True) -> bytes:
    """The chart as PNG bytes, `width_cm` wide at 150 dpi, Chinese labels in a CJK font.
    `show_title=False` leaves the title out of the picture (the document prints it as a caption).
    The last few pictures are remembered: the Word file and the PDF of one report share them."""
    key = (repr(chart), float(width_cm), show_title)  # repr: every field, in order
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    png = _draw(chart, width_cm=width_cm, show_title=show_title)
    with _cache_lock:
        _cache[key] = png
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return png


def _draw(chart: Chart, *, width_cm: float, show_title: bool) -> bytes:
    figure = Figure(figsize=_figure_size(chart, width_cm), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    try:
        base = 9.0
        small = 7.5
        ax = figure.add_subplot()
        horizontal = chart.kind == "barh"
        pad = 16 if horizontal and chart.marks else 10
        if show_title:
            ax.set_title(chart.title, fontproperties=_font(base + 2, bold=True), pad=pad)
        has_data = bool(chart.categories) and any(
            v is not None for series in chart.series for v in series.values[: len(chart.categories)]
        )
        if not has_data:
            ax.set_axis_off()
            ax.text(0.5, 0.5, NO_DATA, ha="center", va="center", fontproperties=_font(base + 1))
        else:
            if chart.kind == "line":
                _draw_lines(ax, chart)
            else:
                _draw_bars(ax, chart, horizontal, small)
            _category_axis(ax, chart.categories, horizontal, base)
            low, high = _value_limits(chart)
            if horizontal:
                ax.set_xlim(low, high)
            else:
                ax.set_ylim(low, high)
            _draw_marks(ax, chart, horizontal, small)
            value_axis = ax.xaxis if horizontal else ax.yaxis
            if chart.unit:
                value_axis.set_label_text(f"单位：{chart.unit}", fontproperties=_font(base))
            for text in ax.get_xticklabels() if horizontal else ax.get_yticklabels():
                text.set_fontproperties(_font(base))
            ax.grid(axis="x" if horizontal else "y", color="#d9d9d9", linewidth=0.6)
            ax.set_axisbelow(True)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            if len(chart.series) > 1:  # one series: the title names it
                figure.legend(
                    *ax.get_legend_handles_labels(),
                    loc="outside lower center",
                    prop=_font(base - 0.5),
                    ncols=min(len(chart.series), 4),
                    frameon=False,
                )
        buffer = io.BytesIO()
        with warnings.catch_warnings():
            # a missing glyph (no CJK font installed) draws a box instead of failing
            warnings.simplefilter("ignore", UserWarning)
            figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None}, facecolor="white")
        return buffer.getvalue()
    finally:
        figure.clear()
