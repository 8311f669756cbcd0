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
