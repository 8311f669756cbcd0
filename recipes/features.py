"""Host features that recipe operations need beyond Python, and how a host tells whether it offers each.

An agent advertises the features whose check passes; the controller routes gated operations only to those agents.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable


def _echidna_ready() -> bool:
    from recipes.echidna.tools import missing_tools, supported_version  # runs the binaries: only when asked

    return not missing_tools() and supported_version("echidna")


def _tools(*names: str) -> Callable[[], bool]:
    return lambda: all(shutil.which(name) for name in names)


#: feature -> the check that this host offers it (its tools installed, at a supported version)
FEATURE_CHECKS: dict[str, Callable[[], bool]] = {
    "echidna": _echidna_ready,
    "sbf": _tools("cargo-build-sbf"),
}


def detect_features(checks: dict[str, Callable[[], bool]] = FEATURE_CHECKS) -> tuple[str, ...]:
    """The features this host offers."""
    return tuple(sorted(name for name, ready in checks.items() if ready()))
