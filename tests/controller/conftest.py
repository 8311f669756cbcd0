"""The controller on a loopback server (`api`, `make_api`) for every test under tests/controller."""

from tests.controller.api_support import api, make_api  # noqa: F401  (fixtures)
