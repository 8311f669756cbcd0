"""Echidna's command line (and config file) for a payload: every field maps to the Echidna option it names."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recipes.echidna.project import FOUNDRY, Project
from recipes.echidna.schema import DEFAULT_TEST_MODE

#: payload field -> Echidna command-line flag
FLAGS = {
    "test_limit": "--test-limit",
    "seq_len": "--seq-len",
    "shrink_limit": "--shrink-limit",
    "seed": "--seed",
    "workers": "--workers",
}
#: payload field -> Echidna config key, for options Echidna has no flag for
CONFIG_KEYS = {"stop_on_fail": "stopOnFail"}


@dataclass(frozen=True)
class Invocation:
    """What to run: argv, and the config file to write first (none when `config` is empty)."""

    argv: list[str]
    config_path: Path
    config: dict[str, Any] = field(default_factory=dict)


def crytic_args(project: Project) -> list[str]:
    """crytic-compile options that read the existing build and never compile."""
    if project.kind == FOUNDRY:
        return [
            "--compile-force-framework",
            "foundry",
            "--foundry-ignore-compile",
            "--foundry-out-directory",
            project.build_dir,
        ]
    return [
        "--compile-force-framework",
        "hardhat",
        "--hardhat-ignore-compile",
        "--hardhat-artifacts-directory",
        project.build_dir,
        "--hardhat-cache-directory",
        "cache",
    ]


def build(
    executable: str,
    payload: dict[str, Any],
    project: Project,
    corpus_dir: Path,
    config_path: Path,
    timeout_s: int | None = None,
    foundry_mode: str = "foundry",
) -> Invocation:
    """The Echidna invocation for `payload`, run from `project.root` with `.` as the target.

    `timeout_s` becomes `--timeout` (Echidna then stops fuzzing and still prints its report); `foundry_mode` is the
    name this Echidna gives Foundry-style tests (see `tools.foundry_test_mode`).
    """
    test_mode = payload.get("test_mode", DEFAULT_TEST_MODE)
    argv = [
        executable,
        ".",
        "--contract",
        payload["contract"],
        "--test-mode",
        foundry_mode if test_mode == "foundry" else test_mode,
        "--format",
        "json",
        "--corpus-dir",
        str(corpus_dir),
        # Echidna splits this on whitespace; build_dir holds none (project._foundry_out_dir checks).
        "--crytic-args",
        " ".join(crytic_args(project)),
    ]
    for name, flag in FLAGS.items():
        if name in payload:
            argv += [flag, str(payload[name])]
    if timeout_s is not None:
        argv += ["--timeout", str(timeout_s)]
    config = {key: payload[name] for name, key in CONFIG_KEYS.items() if name in payload}
    if config:
        argv += ["--config", str(config_path)]
    return Invocation(argv, config_path, config)
