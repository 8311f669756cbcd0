"""The external tools this recipe drives: which Echidna versions it supports, and how to ask a binary."""

from __future__ import annotations

import re
import shutil
import subprocess

#: Oldest supported Echidna (`--workers`, the JSON `events` field) and the first unsupported major version.
MIN_VERSION = (2, 2, 0)
MAX_VERSION_EXCLUSIVE = (3, 0, 0)
#: Executables an agent needs on PATH: Echidna, and crytic-compile, which Echidna runs to read the build.
REQUIRED_TOOLS = ("echidna", "crytic-compile")
_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")
_PROBE_TIMEOUT_S = 20.0


def parse_version(text: str) -> tuple[int, int, int] | None:
    """The first `X.Y.Z` in `text` (`echidna --version` prints `Echidna 2.2.3`)."""
    match = _VERSION.search(text)
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def _ask(executable: str, flag: str) -> str | None:
    try:
        done = subprocess.run(
            [executable, flag], capture_output=True, text=True, errors="replace", timeout=_PROBE_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout + done.stderr


def echidna_version(executable: str = "echidna") -> tuple[int, int, int] | None:
    """The version `executable --version` reports, or None when it cannot be run or says none."""
    answer = _ask(executable, "--version")
    return parse_version(answer) if answer is not None else None


def is_supported(version: tuple[int, int, int] | None) -> bool:
    return version is not None and MIN_VERSION <= version < MAX_VERSION_EXCLUSIVE


def supported_version(executable: str = "echidna") -> bool:
    """Whether `executable` is an Echidna this recipe supports (for the agent's capability detection)."""
    path = shutil.which(executable)
    return path is not None and is_supported(echidna_version(path))


def missing_tools() -> list[str]:
    """REQUIRED_TOOLS that are not on PATH."""
    return [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]


def foundry_test_mode(executable: str) -> str:
    """Echidna's name for Foundry-style tests: `dapptest` until it was renamed `foundry` (Echidna PR #1499)."""
    answer = _ask(executable, "--help") or ""
    return "dapptest" if "dapptest" in answer else "foundry"


def version_text(version: tuple[int, int, int] | None) -> str:
    return ".".join(map(str, version)) if version else "unknown"
