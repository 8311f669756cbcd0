"""The SDK's error tree: one class per HTTP status, built from the server's JSON error envelope."""

from __future__ import annotations

import json
from typing import Any


class ComputalotError(Exception):
    """Base of every error the SDK raises for a failed request; `code` is the server's stable error code."""

    code = "error"
    status = 0

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        recommended_action: str = "",
        details: dict[str, Any] | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status is not None:
            self.status = status
        self.recommended_action = recommended_action
        self.details = details if isinstance(details, dict) else {}
        #: The decoded response body (dict or text), kept for fields the envelope does not name.
        self.body = body

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status}, message={self.message!r})"


class ConnectionFailed(ComputalotError):
    """The controller could not be reached (no HTTP response; `status` is 0)."""

    code, status = "connection_failed", 0


class BadRequest(ComputalotError):
    """400: the request was malformed."""

    code, status = "bad_request", 400


class Unauthorized(ComputalotError):
    """401: the token is missing or invalid."""

    code, status = "unauthorized", 401


class PaymentRequired(ComputalotError):
    """402: the account's available balance is too low; `quote` says what to fund."""

    code, status = "payment_required", 402

    @property
    def quote(self) -> dict[str, Any] | None:
        """The shortfall or top-up quote from `details.quote`, the envelope, or the body's top level."""
        error = self.body.get("error") if isinstance(self.body, dict) else None
        for source in (self.details, error, self.body):
            quote = source.get("quote") if isinstance(source, dict) else None
            if isinstance(quote, dict):
                return quote
        return None


class Forbidden(ComputalotError):
    """403: the token may not do this."""

    code, status = "forbidden", 403


class NotFound(ComputalotError):
    """404: no such object (also for other accounts' objects)."""

    code, status = "not_found", 404


class Conflict(ComputalotError):
    """409: the object's state forbids this (e.g. cancelling a finished job)."""

    code, status = "conflict", 409


class PayloadTooLarge(ComputalotError):
    """413: the request body is over a size limit."""

    code, status = "payload_too_large", 413


class ValidationError(ComputalotError):
    """422: one or more fields are invalid; `fields` lists each as {field, message}."""

    code, status = "validation_failed", 422

    @property
    def fields(self) -> list[dict[str, Any]]:
        """The invalid fields from `details.fields`, each `{"field": ..., "message": ...}`."""
        fields = self.details.get("fields")
        return [f for f in fields if isinstance(f, dict)] if isinstance(fields, list) else []


class RateLimited(ComputalotError):
    """429: too many requests; retry later."""

    code, status = "rate_limited", 429


class ServiceUnavailable(ComputalotError):
    """503: the controller is not ready yet."""

    code, status = "not_ready", 503


#: Status → class; statuses not listed raise the base ComputalotError.
ERRORS_BY_STATUS: dict[int, type[ComputalotError]] = {
    cls.status: cls
    for cls in (
        BadRequest,
        Unauthorized,
        PaymentRequired,
        Forbidden,
        NotFound,
        Conflict,
        PayloadTooLarge,
        ValidationError,
        RateLimited,
        ServiceUnavailable,
    )
}


def from_response(status: int, body: Any) -> ComputalotError:
    """Build the error for a non-2xx answer from its status and body (envelope dict, JSON text, or plain text)."""
    body = _decode(body)
    cls = ERRORS_BY_STATUS.get(status, ComputalotError)
    default_code = cls.code if cls is not ComputalotError else f"http_{status}"
    envelope = body.get("error") if isinstance(body, dict) else None
    if not isinstance(envelope, dict):
        text = body.strip() if isinstance(body, str) else ""
        return cls(text or f"HTTP {status}", code=default_code, status=status, body=body)
    return cls(
        str(envelope.get("message") or f"HTTP {status}"),
        code=str(envelope.get("code") or default_code),
        status=status,
        recommended_action=str(envelope.get("recommended_action") or ""),
        details=envelope.get("details"),
        body=body,
    )


def _decode(body: Any) -> Any:
    """Bytes become text; text that is JSON becomes the decoded value."""
    if isinstance(body, bytes | bytearray):
        body = bytes(body).decode("utf-8", errors="replace")
    if isinstance(body, str):
        try:
            return json.loads(body)
        except ValueError:
            return body
    return body
