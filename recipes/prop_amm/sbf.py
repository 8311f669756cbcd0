"""The SBF (Solana BPF) capability: what the BPF operations need and how they fail without it (spec §0, §8.3).

`validate_full`, `bpf_eval` and `bpf_eval_chunk` need `cargo build-sbf` and an SBF VM equivalent to solana_rbpf
0.8.5 (syscalls, 100,000 compute units per call, 32 KiB heap). The recipe declares them in `operation_requires`
as needing the `sbf` capability, so the controller routes them only to agents that advertise it and answers
`no_capable_workers` at submit time when none does. Neither the toolchain nor a VM is available offline on the
agents this recipe ships to, so a BPF operation that reaches one anyway fails fast here with the same advice.
"""

from __future__ import annotations

import shutil

from recipes.base import RecipeError

CAPABILITY = "sbf"
NOTE = (
    "BPF checks (ELF load/verifier, compute units) need an SBF-capable agent (cargo build-sbf and the SBF VM); "
    "this agent ran the native checks only"
)

BUILD_NOTE = (
    "the BPF artifact needs an SBF-capable agent (cargo build-sbf); this agent published the native x86-64 Linux "
    "cdylib only, exporting __prop_amm_compute_swap_export and __prop_amm_after_swap_export"
)


def missing_tools() -> list[str]:
    """What this agent lacks for BPF work (empty when the SBF toolchain is installed)."""
    return [] if shutil.which("cargo-build-sbf") else ["cargo-build-sbf"]


def require_sbf(operation: str) -> None:
    """Fail a BPF operation with advice: the BPF runtime is not part of this recipe build.

    Raises:
        RecipeError: always on agents without the toolchain; with it, the VM is still missing.
    """
    missing = missing_tools() + ["an SBF VM (solana_rbpf 0.8.5 equivalent)"]
    raise RecipeError(
        f"{operation} needs an SBF-capable agent (capability {CAPABILITY!r}); this agent lacks {', '.join(missing)}. "
        "Submit it where agents advertise 'sbf', or use eval/eval_chunk (native, same scores for strategies with "
        "native/BPF parity) and validate (native checks)"
    )
