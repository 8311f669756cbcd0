"""Dramatiq message encoding with msgpack."""

from typing import Any

import dramatiq
import msgpack


class MsgpackEncoder(dramatiq.Encoder):
    """Encodes whole Dramatiq messages as msgpack; bytes survive untouched."""

    def encode(self, data: dict[str, Any]) -> bytes:
        return msgpack.packb(data, use_bin_type=True)

    def decode(self, data: bytes) -> dict[str, Any]:
        try:
            return msgpack.unpackb(data, raw=False, strict_map_key=False)
        except Exception as exc:  # msgpack raises several unrelated types
            raise dramatiq.DecodeError(f"not a msgpack message: {exc}", data, exc) from None
