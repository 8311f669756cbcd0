"""Errors raised by the broker contract."""


class BrokerError(Exception):
    """Base class of broker errors."""


class BrokerConfigError(BrokerError):
    """A broker URL or option is unusable; the message says what a correct one looks like."""


class DecodeError(BrokerError):
    """A frame or message body could not be decoded into a known schema."""

    def __init__(self, message: str, raw: bytes) -> None:
        super().__init__(message)
        self.raw = raw


class IllegalTransition(BrokerError):
    """A job or task was asked to move between two statuses its lifecycle does not connect (a bug, not user input)."""

    def __init__(self, kind: str, current: str, new: str, allowed: frozenset[str]) -> None:
        current, new = str(current), str(new)
        choices = ", ".join(sorted(allowed)) or "no other status"
        super().__init__(f"a {kind} cannot move from {current!r} to {new!r}; from {current!r} it may move to {choices}")
        self.kind, self.current, self.new = kind, current, new
