"""Shared fixtures: real servers (tests.conftest_services) and the platform under test (tests.conftest_platform);
every collected test is marked with its tiers (tests.tiers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tiers import tiers_of

pytest_plugins = ["tests.conftest_services", "tests.conftest_platform"]

TESTS = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test under tests/ `e2e`, `services` and/or `slow` (a test marked by hand keeps its marks)."""
    for item in items:
        path = Path(item.path).resolve()
        if not path.is_relative_to(TESTS):
            continue
        fixtures = set(getattr(item, "fixturenames", ()))
        for tier in sorted(tiers_of(path.relative_to(TESTS).as_posix(), fixtures)):
            if item.get_closest_marker(tier) is None:
                item.add_marker(tier)
