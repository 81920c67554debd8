"""The cyclic garbage collector held off while a big dashboard is built and written out.

At 3,000 counties × 2 projects a request makes ~10⁵ small containers (rows, the rows' dicts, the
answer's dicts) that all live until the answer is sent and form no reference cycles: reference
counting frees them. Yet every 700 of them start a collection, and the survivors soon start a full
one — ~130 collections a request, a fifth of its CPU time (benchmarks/dashboard.py). Held off for
the request, the collector runs again as usual afterwards (nothing it would have freed is lost).

Process-wide, as the collector is: while several threads are inside, it stays off until the last
one leaves, and it is left off if it was off before the first came in."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_inside = 0
_was_enabled = False


@contextmanager
def paused() -> Iterator[None]:
    global _inside, _was_enabled
    with _lock:
        if _inside == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0 and _was_enabled:
                gc.enable()
