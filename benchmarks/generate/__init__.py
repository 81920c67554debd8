"""Generators for province-scale data (issue 17 item 2): the demo province plus N generated
counties, each with two projects of the running program carried through the lifecycle, and the
province's spot check of a twentieth of the projects with approved targets (`lifecycle`); then
fresh planner statistics (`province.analyze`). `client` signs in and times requests over them
(benchmarks/dashboard.py, benchmarks/work_queue.py).

    .venv/bin/python -m benchmarks.generate --tenants 3000                       # SQLite
    .venv/bin/python -m benchmarks.generate --tenants 3000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/jixiao_bench  # created if missing

Deterministic (seeded); incremental (a second run with more tenants adds only the missing ones).
Not a test and not run by `make test`."""

from .province import ensure_database, generate, prepare

__all__ = ["ensure_database", "generate", "prepare"]
