"""Shared test material for the `prop_amm` recipe: strategy sources, a fake RecipeContext, the spec's vectors."""

from __future__ import annotations

import atexit
import base64
import functools
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from recipes.prop_amm.strategy_build import LoadedStrategy, build_native, load

DATA = Path(__file__).with_name("prop_amm_data")


def source(name: str) -> str:
    """The Rust source of the fixture strategy `name` (prop_amm_data/<name>.rs)."""
    return (DATA / f"{name}.rs").read_text()


def b64(src: str) -> str:
    return base64.b64encode(src.encode()).decode()


class FakeContext:
    """A RecipeContext for tests: a deadline, an output dir, recorded progress, artifacts in a tmp dir."""

    def __init__(self, tmp_path: Path, timeout_s: float = 300.0) -> None:
        self.deadline = time.monotonic() + timeout_s
        self.output_dir = tmp_path / "out"
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.progress_calls: list[dict[str, Any]] = []
        self.published: dict[str, Path] = {}
        self._artifacts = tmp_path / "artifacts"
        self._artifacts.mkdir(parents=True, exist_ok=True)

    def progress(self, **fields: Any) -> None:
        self.progress_calls.append(fields)

    def artifact_path(self, ref: str) -> Path:
        return self._artifacts / ref

    def add_artifact(self, ref: str, content: bytes) -> str:
        (self._artifacts / ref).write_bytes(content)
        return ref

    def publish_artifact(self, path: Path, filename: str = "") -> str:
        ref = f"art_{len(self.published)}"
        target = self.output_dir / (filename or path.name)
        shutil.copyfile(path, target)
        self.published[ref] = target
        return ref


#: Spec §9.3: per-seed edges of seeds 0–9 (Python repr of the reference's f64).
EDGES_10000 = {
    "cp30": [
        403.26328650517723, -261.5906636336487, 327.1038572846977, 141.6851165964574, 289.4451078451174,
        322.3902395704914, 276.1166752075132, 352.0682766043077, 48.683396602345496, -129.90419018281685,
    ],
    "starter": [
        45.99927245658804, -17.037913849432904, 48.75444190141614, 54.97283225434367, 39.05264623559822,
        58.03099605562682, 41.53243739438296, 159.59391830878803, 344.07369667400854, 67.35464148012343,
    ],
    "cp100": [
        366.43079113678533, -80.199311800146, 269.8966686260558, 127.60957277865434, 282.016385458777,
        296.15349398989616, 301.96135440999586, 413.19196418839834, 490.00251633389115, 189.0289955074796,
    ],
}  # fmt: skip
EDGES_200 = {
    "cp30": [
        10.10271594118226, -5.294074607519646, 5.790023239717578, 2.42264405942681, 4.666620162685341,
        6.755825848131441, 5.659221081347987, 6.669451562299297, 0.4548206482738233, -0.7484492576847641,
    ],
    "starter": [0, -0.3664926783316217, 0, 0, 0, 1.7496377862283403, 0, 0, 2.0765945944930193, 0.8320582729065156],
    "cp100": [
        9.880560719964807, -1.123355383619989, 3.9963702961454937, 1.3341272254871197, 3.1791939847464006,
        9.620215196719332, 5.3746138398352965, 7.681638692484926, 5.494026810044752, 4.160097751416072,
    ],
}  # fmt: skip


def close(got: float, want: float) -> bool:
    """Spec §10: absolute error <= 1e-9 + 1e-9 * |edge|."""
    return abs(got - want) <= 1e-9 + 1e-9 * abs(want)


@functools.cache
def build_cache() -> Path:
    """One build cache per test process (removed at exit), so each strategy compiles once per session."""
    root = Path(tempfile.mkdtemp(prefix="prop_amm_test_builds-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root


def loaded(name_or_source: str, cache: Path | None = None) -> LoadedStrategy:
    """Build (or reuse) and load a fixture strategy by name, or a literal source."""
    src = name_or_source if "fn " in name_or_source else source(name_or_source)
    return load(build_native(src, cache_dir=cache or build_cache()))
