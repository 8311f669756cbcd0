"""No library may raise the interpreter's recursion limit for the process (py_ecc, under eth_account, does)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

_CREATE_APP = """
import sys, tempfile
from pathlib import Path
from controller.app import create_app
from controller.core.settings import Settings
import eth_account, py_ecc  # imported again after the app, as a late import in a handler would
create_app(Settings(data_dir=Path(tempfile.mkdtemp())))
print(sys.getrecursionlimit())
"""


def python(code: str) -> str:
    """stdout of `code` in a fresh interpreter that imports this checkout."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout


def test_the_recursion_limit_after_creating_the_app_is_the_interpreters_default() -> None:
    # Given the default limit of a fresh interpreter
    default = python("import sys; print(sys.getrecursionlimit())")
    # When another one imports the controller (and with it eth_account and py_ecc) and creates the app
    after = python(_CREATE_APP)
    # Then its limit is still the default
    assert after == default


def test_importing_py_ecc_alone_still_raises_the_limit() -> None:
    # Given a fresh interpreter that imports py_ecc without the controller, Then the limit is raised: the guard above
    # is needed (if py_ecc stops doing this, the guard in controller/__init__.py can go)
    assert int(python("import py_ecc, sys; print(sys.getrecursionlimit())")) > 1000
