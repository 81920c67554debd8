"""`make bench` (`python -m benchmarks`): every benchmark of this folder, one after the other, on
PostgreSQL + Redis + SeaweedFS, then one table of all their rows — work, jixiao (median, p95),
baseline, ratio, goal, met — printed and written as JSON (`benchmarks/results.json`, or
`--json PATH`). Each script runs as its own process with `--database-url` (its own database, so
that one's data never slows another's) and hands its rows over through `JIXIAO_BENCH_OUT`
(results.py). Not part of `make test`.

    .venv/bin/python -m benchmarks                      # all
    .venv/bin/python -m benchmarks api_overhead search  # some (by script name, without .py)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from results import Result, table  # noqa: E402

# script -> its own database (created by the script when missing)
BENCHMARKS = {
    "api_overhead": "jixiao_bench_api",
    "indicator_search": "jixiao_bench_search",
    "indicator_import": "jixiao_bench_import",
    "evidence_transfer": "jixiao_bench_evidence",
    "dashboard": "jixiao_bench",
    "work_queue": "jixiao_bench",
    "documents": "jixiao_bench_docs",
    "make_run": "",
}
SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/"


def machine() -> dict[str, str]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": datetime.now().strftime("%Y-%m-%d %H:%M"),
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the benchmarks and print one table.")
    parser.add_argument("only", nargs="*", help="script names (default: all)")
    parser.add_argument(
        "--server",
        default=os.environ.get("JIXIAO_BENCH_SERVER", SERVER),
        help="PostgreSQL server URL ending in '/' (each benchmark adds its database)",
    )
    parser.add_argument("--json", default=str(HERE / "results.json"))
    args = parser.parse_args()
    unknown = set(args.only) - set(BENCHMARKS)
    if unknown:
        raise SystemExit(f"unknown benchmarks: {', '.join(sorted(unknown))} (known: {', '.join(BENCHMARKS)})")
    chosen = [name for name in BENCHMARKS if not args.only or name in args.only]
    rows: list[Result] = []
    failed: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in chosen:
            script = HERE / f"{name}.py"
            if not script.exists():
                failed.append(f"{name}: no such script yet")
                continue
            out = Path(tmp) / f"{name}.jsonl"
            env = dict(os.environ, JIXIAO_BENCH_OUT=str(out))
            argv = [sys.executable, str(script)]
            if BENCHMARKS[name]:
                argv += ["--database-url", args.server + BENCHMARKS[name]]
            print(f"\n=== {name} ===", flush=True)
            started = time.monotonic()
            code = subprocess.call(argv, env=env, cwd=HERE.parent)
            print(f"=== {name}: exit {code} in {time.monotonic() - started:.0f} s ===", flush=True)
            if code != 0:
                failed.append(f"{name}: exit {code}")
            if out.exists():
                for line in out.read_text(encoding="utf-8").splitlines():
                    data = json.loads(line)
                    data.pop("ratio", None)
                    rows.append(Result(**data))
    print("\n" + table(rows))
    report = {
        "machine": machine(),
        "command": "make bench",
        "rows": [dict(r.__dict__, ratio=r.ratio) for r in rows],
        "failed": failed,
    }
    Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    met = sum(1 for r in rows if r.met)
    goals = sum(1 for r in rows if r.met is not None)
    print(f"\n{met} of {goals} goals met; written to {args.json}")
    if failed:
        print("did not finish: " + "; ".join(failed))
        raise SystemExit(1)


if __name__ == "__main__":
    main()
