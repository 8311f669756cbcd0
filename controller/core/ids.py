"""Random identifiers of rows (`job_…`, `acc_…`, `key_…`)."""

from __future__ import annotations

import secrets


def new_id(prefix: str, nbytes: int = 10) -> str:
    """A random identifier such as `job_3f9a…`."""
    return f"{prefix}_{secrets.token_hex(nbytes)}"
