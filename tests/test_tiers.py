"""Test tiers (tests/tiers.py): where a test lands, from its path and its fixtures."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import TESTS, pytest_collection_modifyitems
from tests.tiers import tiers_of


@pytest.mark.parametrize(
    ("path", "fixtures", "expected"),
    [
        ("e2e/test_api.py", set(), {"e2e"}),
        ("integration/test_distributed.py", {"distributed"}, {"services"}),
        ("recipes/test_packing_kernel.py", set(), {"slow"}),
        ("recipes/test_prop_amm_build.py", set(), {"slow"}),
        ("controller/billing/test_state_machine.py", set(), {"slow"}),
        ("recipes/test_packing_schema.py", set(), set()),
        ("controller/docs/test_docs.py", {"aiohttp_client", "tmp_path"}, set()),
    ],
)
def test_a_test_lands_in_the_tiers_of_its_folder_or_file(path: str, fixtures: set[str], expected: set[str]) -> None:
    # Given a test's path under tests/ and the fixtures it uses
    # When its tiers are read
    # Then they follow the folder (e2e, integration) or the file (kernel-compiling recipes), else the fast tier
    assert tiers_of(path, fixtures) == expected


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [("postgres_server", {"services"}), ("private_rabbitmq", {"services"}), ("embedded", {"e2e"})],
)
def test_a_test_anywhere_that_starts_servers_or_the_platform_leaves_the_fast_tier(
    fixture: str, expected: set[str]
) -> None:
    # Given a unit-test file that uses a fixture starting real servers or the platform (directly or through another)
    # When its tiers are read
    # Then it is in the tier of those servers, not in the fast tier
    assert tiers_of("controller/billing/test_concurrency.py", {"any_db", fixture}) == expected


@dataclass
class FakeItem:
    """What the collection hook reads of a pytest item, and the marks it adds."""

    path: Path
    fixturenames: tuple[str, ...] = ()
    marks: list[str] = field(default_factory=list)

    def get_closest_marker(self, name: str) -> str | None:
        return name if name in self.marks else None

    def add_marker(self, marker: str) -> None:
        self.marks.append(marker)


def test_the_collection_hook_marks_each_test_under_tests_once_and_leaves_others_alone() -> None:
    # Given a kernel test, an e2e test already marked by hand, a fast test, and a test outside tests/
    kernel = FakeItem(TESTS / "recipes" / "test_packing_kernel.py")
    e2e = FakeItem(TESTS / "e2e" / "test_api.py", ("embedded",), ["e2e"])
    fast = FakeItem(TESTS / "controller" / "test_app.py", ("api",))
    outside = FakeItem(TESTS.parent / "bench" / "test_x.py", ("embedded",))
    # When the hook runs over them
    pytest_collection_modifyitems([kernel, e2e, fast, outside])  # type: ignore[list-item]
    # Then each test under tests/ carries its tiers once, and the test outside tests/ is untouched
    assert (kernel.marks, e2e.marks, fast.marks, outside.marks) == (["slow"], ["e2e"], [], [])
