"""The draw: a sample stratified by tenant, reproducible from its seed (no Flask, no database).

The size is a share of the population (rounded up) or a count. It is spread over the tenants in
proportion to how many approved target sets each has (the largest-remainder method; ties broken
by the seed), and each tenant's part is drawn from its own projects with a generator seeded by the
seed and the tenant's code — so the same seed and the same population give the same projects, and
a tenant's draw does not depend on the order the others come in."""

from __future__ import annotations

import math
import random
from fractions import Fraction


def size_of(population: int, *, share: Fraction | None = None, count: int | None = None) -> int:
    if share is not None:
        return max(1, math.ceil(share * population)) if population else 0
    return count or 0


def allocate(strata: dict[str, int], size: int, seed: int) -> dict[str, int]:
    """How many to draw from each stratum (tenant code → population)."""
    total = sum(strata.values())
    if total == 0 or size <= 0:
        return {code: 0 for code in strata}
    quotas = {code: Fraction(size * n, total) for code, n in strata.items()}
    taken = {code: math.floor(q) for code, q in quotas.items()}
    tie = random.Random(f"{seed}:ties")
    tiebreak = {code: tie.random() for code in sorted(strata)}
    rest = size - sum(taken.values())
    for code in sorted(strata, key=lambda c: (-(quotas[c] - taken[c]), tiebreak[c]))[:rest]:
        taken[code] += 1
    return taken


def draw(strata: dict[str, list[int]], size: int, seed: int) -> dict[str, list[int]]:
    """The drawn ids of each stratum (tenant code → ids), sorted."""
    counts = allocate({code: len(ids) for code, ids in strata.items()}, size, seed)
    return {
        code: sorted(random.Random(f"{seed}:{code}").sample(sorted(ids), counts[code]))
        for code, ids in strata.items()
        if counts[code]
    }
