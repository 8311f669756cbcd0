"""The output tail both sides keep per task attempt."""

#: Bytes (UTF-8) of stdout+stderr kept per task: shown while it runs and stored with its result.
TAIL_BYTES = 10 * 1024


def last_bytes(text: str, limit: int = TAIL_BYTES) -> str:
    """The end of `text` that fits in `limit` UTF-8 bytes (never splitting a character)."""
    data = text.encode()
    return text if len(data) <= limit else data[-limit:].decode("utf-8", errors="ignore")
