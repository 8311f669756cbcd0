"""Tests of controller.core.errors and the JSON error envelope put on every error by controller.core.web."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

import controller.core.errors as errors_module
from controller.core.errors import (
    BadRequest,
    ComputalotError,
    Conflict,
    Forbidden,
    InvalidFanOut,
    InvalidManifest,
    InvalidTarball,
    NoCapableWorkers,
    NotFound,
    NotReady,
    PayloadTooLarge,
    TooDeep,
    Unauthorized,
    ValidationFailed,
    field_error,
)
from controller.core.settings import ConfigError
from controller.core.web import error_middleware, json_response, read_json

#: The API's error codes and statuses: clients match on these, so they never change.
STABLE = {
    ComputalotError: ("internal_error", 500),
    BadRequest: ("bad_request", 400),
    Unauthorized: ("unauthorized", 401),
    Forbidden: ("forbidden", 403),
    NotFound: ("not_found", 404),
    Conflict: ("conflict", 409),
    PayloadTooLarge: ("payload_too_large", 413),
    TooDeep: ("too_deep", 422),
    ValidationFailed: ("validation_failed", 422),
    InvalidFanOut: ("invalid_fan_out", 422),
    InvalidManifest: ("invalid_manifest", 422),
    InvalidTarball: ("invalid_tarball", 422),
    NoCapableWorkers: ("no_capable_workers", 422),
    NotReady: ("not_ready", 503),
    ConfigError: ("config_error", 500),
}


def all_subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *all_subclasses(sub)}
    return found


def make(cls: type[ComputalotError]) -> ComputalotError:
    if issubclass(cls, ValidationFailed):
        return cls([field_error("name", "must be set")])
    return cls("something went wrong", details={"id": "x"})


# --- the error tree ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cls", "expected"), list(STABLE.items()), ids=lambda v: getattr(v, "__name__", ""))
def test_every_error_has_its_stable_code_and_status(cls: type[ComputalotError], expected: tuple[str, int]) -> None:
    # Given an error class, When an instance is made, Then its code and status are the published ones
    error = make(cls)
    assert (error.code, error.status) == expected


def test_every_error_class_in_controller_errors_is_in_the_stable_table() -> None:
    # Given every ComputalotError subclass defined in controller.core.errors
    defined = {c for c in all_subclasses(ComputalotError) if c.__module__ == errors_module.__name__}

    # Then each has a published code and status (a new one must be added to the table above)
    assert defined | {ComputalotError, ConfigError} == set(STABLE)


def test_error_codes_are_distinct() -> None:
    # Given the published codes, Then no two classes share one
    codes = [code for code, _ in STABLE.values()]
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize("cls", list(STABLE), ids=lambda c: c.__name__)
def test_the_envelope_has_exactly_code_message_recommended_action_and_details(cls: type[ComputalotError]) -> None:
    # Given any error
    error = make(cls)

    # When rendered
    envelope = error.to_json()

    # Then it is {"error": {code, message, recommended_action, details}} and nothing else
    assert list(envelope) == ["error"]
    assert set(envelope["error"]) == {"code", "message", "recommended_action", "details"}
    assert envelope["error"]["code"] == error.code
    assert isinstance(envelope["error"]["message"], str) and envelope["error"]["message"]
    assert isinstance(envelope["error"]["recommended_action"], str)
    assert isinstance(envelope["error"]["details"], dict)


def test_an_explicit_recommended_action_overrides_the_class_default() -> None:
    # Given a BadRequest with its own advice
    error = BadRequest("no", recommended_action="Send JSON, not XML.")

    # Then the envelope carries it, and the class default is untouched
    assert error.to_json()["error"]["recommended_action"] == "Send JSON, not XML."
    assert BadRequest("no").recommended_action == "Send a well-formed JSON body."


def test_validation_failed_lists_every_field_in_details_and_message() -> None:
    # Given two field errors
    fields = [field_error("timeout_s", "must be an integer"), field_error("tags", "too many")]

    # When a ValidationFailed is made of them
    error = ValidationFailed(fields)

    # Then details.fields lists them as given and the message names both
    assert error.to_json()["error"]["details"] == {"fields": fields}
    assert error.errors == fields
    assert error.message == "timeout_s: must be an integer; tags: too many"


def test_validation_failed_keeps_a_given_message() -> None:
    # Given an explicit summary, Then it replaces the generated one but the fields stay in details
    error = ValidationFailed([field_error("a", "b")], message="the manifest is invalid")
    assert error.message == "the manifest is invalid"
    assert error.details["fields"] == [{"field": "a", "message": "b"}]


def test_an_error_without_details_has_an_empty_details_object() -> None:
    # Given an error made without details, Then its envelope has {} (not null) as details
    assert NotFound("job 'j' not found").to_json()["error"]["details"] == {}


# --- the middleware, through a real aiohttp app ------------------------------------------------------------------


class Secret(Exception):
    pass


async def raises_conflict(request: web.Request) -> web.Response:
    raise Conflict("job is already completed", details={"status": "completed"})


async def raises_plain(request: web.Request) -> web.Response:
    raise Secret("password=hunter2 at db.internal:5432")


async def echo_json(request: web.Request) -> web.Response:
    return json_response({"got": await read_json(request, max_bytes=64)})


async def redirects(request: web.Request) -> web.Response:
    raise web.HTTPFound("/elsewhere")


@pytest.fixture
async def app_client(aiohttp_client: Any) -> Any:
    app = web.Application(middlewares=[error_middleware])
    app.router.add_get("/conflict", raises_conflict)
    app.router.add_get("/boom", raises_plain)
    app.router.add_post("/echo", echo_json)
    app.router.add_get("/redirect", redirects)
    return await aiohttp_client(app)


async def envelope_of(response: Any) -> dict[str, Any]:
    assert response.content_type == "application/json"
    data = await response.json()
    assert list(data) == ["error"]
    assert set(data["error"]) == {"code", "message", "recommended_action", "details"}
    return data["error"]


async def test_a_computalot_error_leaves_as_its_envelope_and_status(app_client: Any) -> None:
    # Given a handler raising Conflict
    # When it is called
    response = await app_client.get("/conflict")

    # Then the status and envelope are the error's
    assert response.status == 409
    assert (
        await envelope_of(response)
        == Conflict("job is already completed", details={"status": "completed"}).to_json()["error"]
    )


async def test_an_unknown_route_is_a_404_not_found_envelope(app_client: Any) -> None:
    # Given no route /nowhere
    # When it is requested
    response = await app_client.get("/nowhere")

    # Then a 404 not_found envelope names the route
    assert response.status == 404
    error = await envelope_of(response)
    assert error["code"] == "not_found"
    assert "/nowhere" in error["message"]


async def test_a_wrong_method_is_a_405_method_not_allowed_envelope_with_allow(app_client: Any) -> None:
    # Given /echo only takes POST
    # When it is called with DELETE
    response = await app_client.delete("/echo")

    # Then a 405 method_not_allowed envelope comes back, with the Allow header kept
    assert response.status == 405
    assert (await envelope_of(response))["code"] == "method_not_allowed"
    assert "POST" in response.headers["Allow"]


async def test_an_unexpected_exception_is_a_500_that_does_not_leak_its_text(app_client: Any) -> None:
    # Given a handler raising a plain exception with a secret in its text
    # When it is called
    response = await app_client.get("/boom")

    # Then a 500 internal_error envelope comes back without the exception's text or type
    assert response.status == 500
    text = await response.text()
    assert "hunter2" not in text and "db.internal" not in text and "Secret" not in text
    assert (await envelope_of(response))["code"] == "internal_error"


async def test_a_redirect_passes_through_the_middleware(app_client: Any) -> None:
    # Given a handler raising a 302
    # When it is called without following redirects
    response = await app_client.get("/redirect", allow_redirects=False)

    # Then it stays a redirect, not an error envelope
    assert response.status == 302
    assert response.headers["Location"] == "/elsewhere"


async def test_read_json_returns_the_decoded_body(app_client: Any) -> None:
    # Given a small JSON body, When posted, Then the handler sees it decoded
    response = await app_client.post("/echo", data=b'{"a": [1, 2]}')
    assert response.status == 200
    assert await response.json() == {"got": {"a": [1, 2]}}


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe\x00", b"", b"   \n"])
async def test_read_json_on_a_body_that_is_not_json_is_a_400_bad_request(app_client: Any, raw: bytes) -> None:
    # Given a body that is not JSON (or empty)
    # When posted
    response = await app_client.post("/echo", data=raw)

    # Then a 400 bad_request envelope comes back
    assert response.status == 400
    assert (await envelope_of(response))["code"] == "bad_request"


async def test_read_json_on_a_body_over_the_limit_is_a_413(app_client: Any) -> None:
    # Given a 65-byte JSON body and a 64-byte limit
    raw = b'"' + b"x" * 63 + b'"'

    # When posted with its Content-Length
    response = await app_client.post("/echo", data=raw)

    # Then a 413 payload_too_large envelope gives the limit
    assert response.status == 413
    error = await envelope_of(response)
    assert error["code"] == "payload_too_large"
    assert error["details"] == {"limit_bytes": 64}


async def test_read_json_on_a_chunked_body_over_the_limit_is_a_413(app_client: Any) -> None:
    # Given a body sent in chunks, without Content-Length, that grows past the limit
    async def chunks() -> AsyncIterator[bytes]:
        yield b'"' + b"x" * 40
        yield b"x" * 40 + b'"'

    # When posted
    response = await app_client.post("/echo", data=chunks())

    # Then it is still refused with 413
    assert response.status == 413
    assert (await envelope_of(response))["code"] == "payload_too_large"
