"""The layering of ARCHITECTURE.md, read from the imports of every module (including imports inside functions)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: package -> top-level Computalot packages it must never import
FORBIDDEN: dict[str, set[str]] = {
    "sdk/computalot": {"controller", "agent", "broker", "recipes", "embedded"},
    "recipes": {"controller", "agent", "broker", "embedded"},
    "broker": {"controller", "agent", "embedded"},
    "controller": {"agent", "embedded"},
    "agent": {"controller", "embedded"},
}


def imported_packages(path: Path) -> set[str]:
    """Top-level package names that a module imports, anywhere in its body."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def violations(package: str) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in sorted(imported_packages(path) & FORBIDDEN[package])
    ]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_nothing_its_layer_forbids(package: str) -> None:
    # Given every module of the package, When its imports are read, Then none crosses the layering
    assert violations(package) == []


def test_the_layering_check_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    # Given a module that imports the agent lazily, inside a function
    module = tmp_path / "lazy.py"
    module.write_text("def f():\n    from agent.worker import Worker\n    return Worker\n")
    # Then the check reports the agent import
    assert imported_packages(module) == {"agent"}


def test_only_the_embedded_launcher_composes_controller_and_agent() -> None:
    # Given the embedded package, Then it imports both sides, and nothing else imports it
    imports = set().union(*(imported_packages(p) for p in (ROOT / "embedded").rglob("*.py")))
    assert {"controller", "agent"} <= imports
    importers = [
        p
        for top in ("controller", "agent", "broker", "recipes", "sdk")
        for p in (ROOT / top).rglob("*.py")
        if "embedded" in imported_packages(p)
    ]
    assert importers == []
