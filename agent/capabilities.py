"""What this host offers: CPUs, memory, GPUs (via nvidia-smi), runtimes."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Callable

from broker.messages import Capabilities

logger = logging.getLogger(__name__)


def memory_mb() -> int:
    """Physical memory in MiB (0 when unknown)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
    except (ValueError, OSError):
        return 0


def gpus() -> list[int]:
    """Memory in MiB of each GPU that nvidia-smi reports; empty without nvidia-smi."""
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (subprocess.SubprocessError, OSError) as exc:
        logger.warning("nvidia-smi failed, advertising no GPUs: %s", exc)
        return []
    return [int(float(line)) for line in out.split() if line.strip()]


#: optional feature -> executables that must all be on PATH for an agent to offer it
def _echidna_ready() -> bool:
    from recipes.echidna.tools import missing_tools, supported_version

    return not missing_tools() and supported_version("echidna")


def _tools(*names: str) -> Callable[[], bool]:
    return lambda: all(shutil.which(name) for name in names)


#: optional feature -> the check that the host offers it (its tools installed, at a supported version)
FEATURE_CHECKS: dict[str, Callable[[], bool]] = {
    "echidna": _echidna_ready,
    "sbf": _tools("cargo-build-sbf"),
}


def detect_features(checks: dict[str, Callable[[], bool]] = FEATURE_CHECKS) -> tuple[str, ...]:
    """Optional features this host offers."""
    return tuple(sorted(name for name, ready in checks.items() if ready()))


def detect(profiles: tuple[str, ...], recipes: tuple[str, ...] = (), features: tuple[str, ...] = ()) -> Capabilities:
    """Capabilities of this host for the given profiles."""
    gpu_memory = gpus()
    usage = shutil.disk_usage(os.getcwd())
    return Capabilities(
        cpu=os.cpu_count() or 1,
        memory_mb=memory_mb(),
        gpu_count=len(gpu_memory),
        gpu_memory_mb=min(gpu_memory, default=0),
        storage_gb=usage.free // (1024**3),
        profiles=profiles,
        runtimes=("process", "recipe") if recipes else ("process",),
        recipes=recipes,
        features=features,
    )
