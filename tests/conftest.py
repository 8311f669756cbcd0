"""Shared fixtures: real servers (tests.conftest_services) and the platform under test (tests.platform)."""

pytest_plugins = ["tests.conftest_services", "tests.conftest_platform"]
