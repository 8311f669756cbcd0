"""Error mapping: the server's envelope, statuses without envelopes, and non-JSON bodies."""

from __future__ import annotations

import json

import computalot
import pytest
from computalot.errors import (
    BadRequest,
    ComputalotError,
    Conflict,
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

BY_STATUS = [
    (400, BadRequest),
    (401, Unauthorized),
    (402, PaymentRequired),
    (403, Forbidden),
    (404, NotFound),
    (409, Conflict),
    (413, PayloadTooLarge),
    (422, ValidationError),
    (429, RateLimited),
    (503, ServiceUnavailable),
]


def _envelope(code: str, message: str, action: str = "", details: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "recommended_action": action, "details": details or {}}}


@pytest.mark.parametrize(("status", "cls"), BY_STATUS)
def test_each_status_maps_to_its_class_with_the_envelope_fields(status: int, cls: type[ComputalotError]) -> None:
    # Given an error envelope
    body = _envelope("some_code", "what went wrong", "what to do", {"k": 1})

    # When it is mapped
    error = from_response(status, body)

    # Then the class, code, status, message, action and details come from it
    assert type(error) is cls and isinstance(error, ComputalotError)
    assert (error.code, error.status, error.message) == ("some_code", status, "what went wrong")
    assert (error.recommended_action, error.details) == ("what to do", {"k": 1})
    assert str(error) == "what went wrong" and error.body == body


@pytest.mark.parametrize(("status", "cls"), BY_STATUS)
def test_a_plain_text_body_still_raises_the_right_class_with_the_text(status: int, cls: type) -> None:
    # Given a non-JSON body, as a proxy in front of the controller might send
    # When it is mapped
    error = from_response(status, b"  Bad Gateway-ish text\n")

    # Then the class is picked by status, the text is the message and the code is the class default
    assert type(error) is cls
    assert error.message == "Bad Gateway-ish text"
    assert error.code == cls.code and error.status == status
    assert error.recommended_action == "" and error.details == {}


def test_validation_errors_list_each_invalid_field() -> None:
    # Given a 422 naming two fields, as the controller's ValidationFailed does
    fields = [{"field": "timeout_s", "message": "must be 1..86400"}, {"field": "bogus", "message": "unknown field"}]
    body = _envelope(
        "validation_failed", "timeout_s: must be 1..86400; bogus: unknown field", details={"fields": fields}
    )

    # When it is mapped
    error = from_response(422, json.dumps(body))

    # Then .fields lists them
    assert isinstance(error, ValidationError)
    assert error.fields == fields
    assert error.code == "validation_failed"


def test_validation_errors_without_fields_give_an_empty_list() -> None:
    # Given a 422 with no details
    # When it is mapped
    # Then .fields is empty
    error = from_response(422, _envelope("invalid_tarball", "not gzip"))
    assert isinstance(error, ValidationError) and error.fields == []


def test_payment_required_carries_the_quote_from_details_or_the_body() -> None:
    # Given a shortfall quote in details, and a top-up answer with the quote at the top level
    quote = {"quote_id": "q_1", "amount_usd": 5.0}
    in_details = _envelope("insufficient_balance", "need $5", details={"quote": quote})
    top_level = {"quote": quote, "x402Version": 2, "accepts": []}

    # When they are mapped
    # Then .quote finds it in either place, and is None when absent
    errors = [from_response(402, body) for body in (in_details, top_level, "pay up")]
    assert all(isinstance(e, PaymentRequired) for e in errors)
    assert [e.quote for e in errors if isinstance(e, PaymentRequired)] == [quote, quote, None]


def test_unlisted_statuses_raise_the_base_class() -> None:
    # Given a 500 with an envelope and a 502 without one
    # When they are mapped
    internal = from_response(500, _envelope("internal_error", "boom"))
    gateway = from_response(502, "")

    # Then both are plain ComputalotErrors with a usable code and message
    assert type(internal) is ComputalotError and internal.code == "internal_error" and internal.status == 500
    assert type(gateway) is ComputalotError and gateway.code == "http_502" and gateway.message == "HTTP 502"


def test_an_envelope_missing_parts_gets_defaults() -> None:
    # Given an envelope with only a code
    # When it is mapped
    error = from_response(404, {"error": {"code": "job_not_found"}})

    # Then the message falls back to the status and details to {}
    assert (error.code, error.message, error.details) == ("job_not_found", "HTTP 404", {})


def test_every_error_class_is_exported() -> None:
    # Given the package's public names
    # When they are checked for the error classes
    # Then each is there and subclasses ComputalotError
    for _, cls in BY_STATUS:
        assert cls.__name__ in computalot.__all__
        assert issubclass(getattr(computalot, cls.__name__), computalot.ComputalotError)
