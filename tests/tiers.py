"""Test tiers: which of `e2e`, `services` and `slow` a test belongs to, from its path and its fixtures.

A test in none of them is in the fast tier (`scripts/test --fast`); a plain `pytest` runs every tier.
"""

from __future__ import annotations

from fnmatch import fnmatch

#: Fixtures that start the platform as processes: a test using one is in the `e2e` tier wherever it lives.
E2E_FIXTURES = frozenset({"embedded"})
#: Fixtures that start real servers: a test using one is in the `services` tier wherever it lives.
SERVICE_FIXTURES = frozenset(
    {"postgres_server", "redis_server", "rabbitmq_server", "private_redis", "private_rabbitmq"}
)
#: Tests that take seconds each: recipe tests that compile Numba kernels or build Rust strategies (on a cold cache),
#: and the money state machine (a long Hypothesis search over database states, about 20 s)...
SLOW_FILES = ("recipes/test_packing_*.py", "recipes/test_prop_amm_*.py", "controller/billing/test_state_machine.py")
#: ...except those that only read schemas and defaults.
NOT_SLOW_FILES = ("recipes/test_packing_schema.py",)


def tiers_of(path: str, fixtures: set[str]) -> set[str]:
    """The tiers of a test in `path` (relative to tests/, '/'-separated) that uses `fixtures` (transitively)."""
    found = set()
    if path.startswith("e2e/") or fixtures & E2E_FIXTURES:
        found.add("e2e")
    if path.startswith("integration/") or fixtures & SERVICE_FIXTURES:
        found.add("services")
    if any(fnmatch(path, p) for p in SLOW_FILES) and not any(fnmatch(path, p) for p in NOT_SLOW_FILES):
        found.add("slow")
    return found
