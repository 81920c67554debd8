"""`python -m benchmarks.generate`: see the package's docstring."""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from . import ensure_database, generate, prepare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tenants", type=int, default=3000, help="generated counties (2 projects each)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--instance", type=Path, default=Path(tempfile.gettempdir()) / "jixiao-bench")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--fresh", action="store_true", help="drop the database (or file) first")
    parser.add_argument(
        "--indicators",
        type=int,
        default=0,
        help="then top the demo province's library up to N indicators (generate/indicators.py)",
    )
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{args.instance / 'bench.db'}"
    ensure_database(url, fresh=args.fresh)
    rt = prepare(url, args.instance)
    started = time.perf_counter()
    done = generate(rt.db, args.tenants, seed=args.seed, password=rt.settings.demo_password)
    print(
        f"{done.after} generated counties ({done.after - done.before} new, {done.rows} rows) "
        f"in {time.perf_counter() - started:.1f} s — {url.split('://')[0]}"
    )
    if args.indicators:
        from .indicators import generate_indicators

        library = generate_indicators(rt.db, args.indicators, seed=args.seed)
        print(
            f"{library.after} indicators ({library.after - library.before} new) "
            f"in {library.seconds:.1f} s — {url.split('://')[0]}"
        )


if __name__ == "__main__":
    main()
