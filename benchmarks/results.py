"""One row per measured work, the same shape from every benchmark, for `make bench` (issue 17).

A benchmark script builds :class:`Result` rows and calls :func:`emit` once at its end. `emit`
prints the rows as a table and, when ``JIXIAO_BENCH_OUT`` names a file (the harness,
``python -m benchmarks``, sets it), appends them there as JSON lines. ``ratio`` is always
"jixiao over the baseline" in the row's own unit: for times (ms, s) lower is better, for
throughputs (rps, MiB/s) the goal reads it the other way (e.g. ``≥ 0.50``).
"""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass


@dataclass
class Result:
    work: str  # what was measured, as a reader of the table says it
    unit: str  # "ms", "s", "rps", "MiB/s", "MiB"
    median: float
    p95: float | None = None
    baseline: str = ""  # what the floor is, in words
    baseline_value: float | None = None  # the floor, in `unit`, measured in the same run
    goal: str = ""  # e.g. "≤ 1.5× baseline, < 20 ms"
    met: bool | None = None  # None: nothing to meet (a figure reported only)
    note: str = ""  # e.g. "6 SQL statements a request"
    benchmark: str = ""  # the script; emit() fills it in

    @property
    def ratio(self) -> float | None:
        if self.baseline_value in (None, 0):
            return None
        return self.median / self.baseline_value  # type: ignore[operator]


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile of `values` (share 0.95 → p95)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def summary(values: Sequence[float]) -> tuple[float, float]:
    """(median, p95) of a sample."""
    return statistics.median(values), percentile(values, 0.95)


def _fmt(value: float | None) -> str:
    if value is None:
        return "–"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(rows: Iterable[Result]) -> str:
    """The rows as a Markdown table (what the README records)."""
    lines = [
        "| work | jixiao median | p95 | baseline | ratio | goal | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        base = f"{r.baseline}: {_fmt(r.baseline_value)} {r.unit}" if r.baseline else "–"
        ratio = "–" if r.ratio is None else f"{r.ratio:.2f}"
        met = {True: "yes", False: "**no**", None: "–"}[r.met]
        work = f"{r.work} ({r.note})" if r.note else r.work
        lines.append(
            f"| {work} | {_fmt(r.median)} {r.unit} | {_fmt(r.p95)} | {base} | {ratio} | {r.goal or '–'} | {met} |"
        )
    return "\n".join(lines)


def as_json(r: Result) -> dict[str, object]:
    data = asdict(r)
    data["ratio"] = r.ratio
    return data


def emit(rows: Sequence[Result], benchmark: str) -> None:
    """Print the rows and, under the harness, hand them over as JSON lines."""
    for r in rows:
        r.benchmark = r.benchmark or benchmark
    print(table(rows), flush=True)
    out = os.environ.get("JIXIAO_BENCH_OUT")
    if out:
        with open(out, "a", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(as_json(r), ensure_ascii=False) + "\n")
