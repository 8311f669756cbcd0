"""Native builds of strategy sources (spec §8): the safe-source rules, the appended export shim, offline `rustc`
against the recipe's stand-in crates (`rust/`), a build cache keyed by sha256, and ctypes loading.

Plain rustc rather than cargo: the four stand-in crates are built once per cache (keyed by their sources and the
compiler version), so a strategy is one rustc call, and nothing ever looks for a registry.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recipes.base import RecipeError
from recipes.prop_amm.source_rules import Metadata, check_source, has_after_swap, metadata

logger = logging.getLogger(__name__)

#: Environment variable naming the build cache directory (default: <tmp>/computalot-prop-amm).
CACHE_ENV = "PROP_AMM_BUILD_CACHE"
RUST_DIR = Path(__file__).with_name("rust")
#: (crate name, source file, crate type, extern crates) in build order.
STAND_INS = (
    ("wincode_derive", "wincode_derive.rs", "proc-macro", ()),
    ("wincode", "wincode.rs", "rlib", ("wincode_derive",)),
    ("pinocchio", "pinocchio.rs", "rlib", ()),
    ("prop_amm_submission_sdk", "prop_amm_submission_sdk.rs", "rlib", ("pinocchio",)),
)
USER_EXTERNS = ("pinocchio", "wincode", "prop_amm_submission_sdk")
RUSTC_FLAGS = ("--edition", "2021", "-C", "opt-level=3", "-C", "codegen-units=1", "-C", "debuginfo=0", "-A", "warnings")
COMPILE_TIMEOUT_S = 600.0
_ERROR_TAIL_CHARS = 4000

SHIM = """

// ---- appended by the prop_amm recipe: native exports (spec §8.1) ----
#[cfg(not(target_os = "solana"))]
#[no_mangle]
pub extern "C" fn __prop_amm_compute_swap_export(data: *const u8, len: usize) -> u64 {
    ::prop_amm_submission_sdk::ffi_compute_swap(data, len, compute_swap)
}

#[cfg(not(target_os = "solana"))]
#[no_mangle]
pub extern "C" fn __prop_amm_after_swap_export(data: *const u8, data_len: usize, storage: *mut u8, storage_len: usize) {
    ::prop_amm_submission_sdk::ffi_after_swap(data, data_len, storage, storage_len, AFTER_SWAP);
}

#[cfg(not(target_os = "solana"))]
#[no_mangle]
pub extern "C" fn __prop_amm_panic_count() -> u64 {
    ::prop_amm_submission_sdk::panic_count()
}
"""
_AFTER = "after_swap"
_NO_AFTER = "|_: &[u8], _: &mut [u8]| {}"


@dataclass(frozen=True, slots=True)
class NativeBuild:
    """A compiled strategy library and what the source declares."""

    library: Path
    source_sha256: str
    has_after_swap: bool
    metadata: Metadata
    cached: bool


def cache_root(cache_dir: Path | str | None = None) -> Path:
    """The build cache: `cache_dir`, else $PROP_AMM_BUILD_CACHE, else a directory under the system temp dir."""
    if cache_dir is None:
        cache_dir = os.environ.get(CACHE_ENV) or Path(tempfile.gettempdir()) / "computalot-prop-amm"
    root = Path(cache_dir)
    root.mkdir(parents=True, exist_ok=True)
    return root


@functools.cache
def rustc_version() -> str:
    """`rustc -vV`, part of every cache key.

    Raises:
        RecipeError: rustc is not installed.
    """
    try:
        return subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise RecipeError(f"rustc is not available on this agent: {exc}") from exc


def _sha256(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def _rustc(args: list[str], what: str, timeout_s: float) -> None:
    try:
        proc = subprocess.run(["rustc", *args], capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise RecipeError(f"{what}: rustc timed out after {timeout_s:.0f} s") from exc
    if proc.returncode != 0:
        tail = proc.stderr[-_ERROR_TAIL_CHARS:]
        raise RecipeError(f"{what} failed (rustc exit {proc.returncode}):\n{tail}")


def _publish_dir(tmp: Path, final: Path) -> None:
    # Another task may have finished the same build meanwhile: keep theirs, drop ours.
    try:
        os.replace(tmp, final)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not final.exists():
            raise


def _externs(deps: Path, names: tuple[str, ...]) -> list[str]:
    args = ["-L", f"dependency={deps}"]
    for name in names:
        suffix = "so" if name == "wincode_derive" else "rlib"
        args += ["--extern", f"{name}={deps / f'lib{name}.{suffix}'}"]
    return args


def stand_in_crates(root: Path) -> Path:
    """The directory of the built stand-in crates, building them once per cache and compiler."""
    sources = [(RUST_DIR / f).read_text() for _, f, _, _ in STAND_INS]
    deps = root / f"deps-{_sha256(rustc_version(), *RUSTC_FLAGS, *sources)[:16]}"
    if deps.exists():
        return deps
    tmp = Path(tempfile.mkdtemp(prefix="deps-", dir=root))
    for name, file, crate_type, externs in STAND_INS:
        out = tmp / (f"lib{name}.so" if crate_type == "proc-macro" else f"lib{name}.rlib")
        args = [*RUSTC_FLAGS, "--crate-type", crate_type, "--crate-name", name, str(RUST_DIR / file)]
        _rustc([*args, *_externs(tmp, externs), "-o", str(out)], f"building the {name} stand-in crate", 600.0)
    _publish_dir(tmp, deps)
    return deps


def shimmed_source(source: str, with_after_swap: bool) -> str:
    """The user's source with the native export shim appended (§8.1)."""
    return source + SHIM.replace("AFTER_SWAP", _AFTER if with_after_swap else _NO_AFTER)


def build_native(source: str, cache_dir: Path | str | None = None, timeout_s: float = COMPILE_TIMEOUT_S) -> NativeBuild:
    """Check and compile `source` into a cdylib, or reuse the cached build of the same source.

    Raises:
        RecipeError: a failed source check (named), or a compile error (the tail of rustc's diagnostics).
    """
    tokens = check_source(source)
    with_after = has_after_swap(tokens)
    meta = metadata(tokens)
    root = cache_root(cache_dir)
    deps = stand_in_crates(root)
    full = shimmed_source(source, with_after)
    key = _sha256(full, deps.name, *RUSTC_FLAGS)
    final = root / "builds" / key
    library = final / "libuser_program.so"
    source_sha = hashlib.sha256(source.encode()).hexdigest()
    if library.exists():
        return NativeBuild(library, source_sha, with_after, meta, cached=True)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="build-", dir=final.parent))
    (tmp / "lib.rs").write_text(full)
    args = [*RUSTC_FLAGS, "--crate-type", "cdylib", "--crate-name", "user_program", "--cfg", 'feature="no-entrypoint"']
    args += [*_externs(deps, USER_EXTERNS), str(tmp / "lib.rs"), "-o", str(tmp / "libuser_program.so")]
    logger.info("compiling strategy source=%s", source_sha[:12])
    try:
        _rustc(args, "compiling the strategy", timeout_s)
    except RecipeError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _publish_dir(tmp, final)
    return NativeBuild(library, source_sha, with_after, meta, cached=False)


@dataclass(frozen=True, slots=True)
class LoadedStrategy:
    """A loaded library: `fns` is the int64 array [compute_swap address, after_swap address, has_after_swap]."""

    build: NativeBuild
    fns: np.ndarray
    lib: ctypes.CDLL
    _panics: Callable[[], int]

    def panic_count(self) -> int:
        """Strategy calls that panicked (and were answered with 0 / no storage change)."""
        return int(self._panics())


_loaded: dict[Path, LoadedStrategy] = {}


def load(build: NativeBuild) -> LoadedStrategy:
    """Load (once per process) the library of `build` and take its export addresses."""
    if build.library in _loaded:
        return _loaded[build.library]
    lib = ctypes.CDLL(str(build.library))
    panics = lib["__prop_amm_panic_count"]
    panics.restype = ctypes.c_uint64
    addresses = [ctypes.cast(lib[f"__prop_amm_{n}_export"], ctypes.c_void_p).value for n in _EXPORTS]
    fns = np.array([*addresses, 1 if build.has_after_swap else 0], dtype=np.int64)
    loaded = LoadedStrategy(build, fns, lib, panics)
    _loaded[build.library] = loaded
    return loaded


_EXPORTS = ("compute_swap", "after_swap")
