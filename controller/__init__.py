"""The Computalot controller.

Importing it first pins the interpreter's recursion limit: every entry point (the app, `computalot-server`,
`computalot-admin`) goes through this package.
"""

from __future__ import annotations

import sys

# py_ecc (imported by eth_account) raises the process's recursion limit to 100,000 when it is first imported.
# At that limit, deeply nested input (JSON, manifests) overflows the C stack and kills the whole process instead of
# raising RecursionError. Import it once here and put the interpreter's limit back; later imports are cached.
_limit = sys.getrecursionlimit()
import py_ecc  # noqa: E402, F401

sys.setrecursionlimit(_limit)
del _limit
