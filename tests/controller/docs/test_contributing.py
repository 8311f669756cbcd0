"""CONTRIBUTING.md's table of where each URL is served agrees with the router, both ways."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from controller.app import create_app
from controller.core.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
ROW = re.compile(r"^\| `(GET|POST|PUT|DELETE|PATCH) ([^`]+)` \| `([^`]+)` \|$")


def served(tmp_path: Path) -> set[tuple[str, str, str]]:
    """(method, path, file) of every route of the app, the file being the module that defines its handler."""
    app = create_app(Settings(data_dir=tmp_path), background=False)
    found = set()
    for route in app.router.routes():
        if route.method == "HEAD" or route.resource is None:
            continue
        module = sys.modules[route.handler.__module__].__file__
        assert module is not None
        found.add((route.method, route.resource.canonical, str(Path(module).relative_to(ROOT))))
    return found


def documented(text: str) -> set[tuple[str, str, str]]:
    """(method, path, file) of every row between the routes markers."""
    table = text.split("<!-- routes:start -->", 1)[1].split("<!-- routes:end -->", 1)[0]
    return {(m[1], m[2], m[3]) for line in table.splitlines() if (m := ROW.match(line.strip()))}


def test_every_route_is_in_the_contributing_table_with_the_file_that_serves_it(tmp_path: Path) -> None:
    # Given the app's router and CONTRIBUTING.md
    # When both are read
    # Then they list the same routes, each in the same file
    assert documented((ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")) == served(tmp_path)


def test_the_table_reader_sees_a_row_that_names_the_wrong_file() -> None:
    # Given a table whose only row names a file that does not serve the route
    text = "<!-- routes:start -->\n| `GET /health` | `controller/jobs/routes.py` |\n<!-- routes:end -->"
    # Then the reader returns that row as written, so the comparison above would fail on it
    assert documented(text) == {("GET", "/health", "controller/jobs/routes.py")}
