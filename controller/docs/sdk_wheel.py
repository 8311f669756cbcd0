"""The SDK wheel served at `/docs/downloads/computalot-<version>-py3-none-any.whl`.

Built in memory from the `computalot` package installed next to the controller (a pure-Python wheel is a
zip with a `.dist-info` folder), so an operator ships no separate build artifact and the wheel always
matches the SDK the server was tested with.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from pathlib import Path

#: What `pip` needs to install the SDK's own dependencies (kept in step with sdk/pyproject.toml by a test).
REQUIRES = ("httpx>=0.27,<1", "click>=8.1,<9", "rich>=13")
EXTRAS = {"zmq": ("pyzmq>=25", "msgpack>=1.0"), "x402": ("eth-account>=0.13",)}


def wheel_name(version: str) -> str:
    return f"computalot-{version}-py3-none-any.whl"


def build_wheel(package_dir: Path, version: str) -> bytes:
    """A wheel of the package at `package_dir` (its `.py` files and `py.typed`)."""
    files = sorted(p for p in package_dir.rglob("*") if p.is_file() and (p.suffix == ".py" or p.name == "py.typed"))
    dist_info = f"computalot-{version}.dist-info"
    entries = [(f"computalot/{p.relative_to(package_dir).as_posix()}", p.read_bytes()) for p in files]
    entries += [
        (f"{dist_info}/METADATA", _metadata(version).encode()),
        (
            f"{dist_info}/WHEEL",
            b"Wheel-Version: 1.0\nGenerator: computalot-controller\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        ),
        (f"{dist_info}/entry_points.txt", b"[console_scripts]\ncomputalot = computalot.cli:main\n"),
    ]
    record = [f"{name},sha256={_digest(data)},{len(data)}" for name, data in entries]
    record.append(f"{dist_info}/RECORD,,")
    entries.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in entries:
            wheel.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)
    return buffer.getvalue()


def _metadata(version: str) -> str:
    lines = [
        "Metadata-Version: 2.1",
        "Name: computalot",
        f"Version: {version}",
        "Requires-Python: >=3.11",
        "Summary: Python SDK and CLI for the Computalot distributed compute platform",
    ]
    lines += [f"Requires-Dist: {req}" for req in REQUIRES]
    for extra, requirements in EXTRAS.items():
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {req} ; extra == "{extra}"' for req in requirements]
    return "\n".join(lines) + "\n"


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
