"""Python SDK and CLI for Computalot: `from computalot import ComputalotClient`."""

from ._version import __version__
from .client import DEFAULT_URL, TERMINAL_STATUSES, ComputalotClient
from .errors import (
    BadRequest,
    ComputalotError,
    Conflict,
    ConnectionFailed,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    PaymentRequired,
    RateLimited,
    ServiceUnavailable,
    Unauthorized,
    ValidationError,
    from_response,
)
from .streams import StreamEvent, parse_sse
from .subscribe import subscribe
from .tarball import build_tarball

__all__ = [
    # Client
    "ComputalotClient",
    "DEFAULT_URL",
    "TERMINAL_STATUSES",
    "build_tarball",
    # Live events
    "StreamEvent",
    "parse_sse",
    "subscribe",
    # Errors
    "ComputalotError",
    "BadRequest",
    "Unauthorized",
    "PaymentRequired",
    "Forbidden",
    "NotFound",
    "Conflict",
    "PayloadTooLarge",
    "ValidationError",
    "RateLimited",
    "ServiceUnavailable",
    "ConnectionFailed",
    "from_response",
    # Metadata
    "__version__",
]
