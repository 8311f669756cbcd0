"""What this host offers: CPUs, memory, GPUs (via nvidia-smi), runtimes."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess

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
