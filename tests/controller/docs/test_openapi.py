"""The OpenAPI document: request bodies and response media types of the endpoint list, and the error envelope."""

from __future__ import annotations

import jsonschema
import pytest

from controller.core.errors import ComputalotError, NotFound
from controller.docs.openapi import (
    ERROR_ENVELOPE,
    JSON_BODIES,
    NOT_JSON,
    PARAMETERS,
    PAYMENT_REQUESTS,
    RAW_BODIES,
    openapi,
)
from controller.docs.routes import ENDPOINTS

OPERATIONS = {(method, path) for method, path, _, _ in ENDPOINTS}


@pytest.mark.parametrize(
    "table", [JSON_BODIES, RAW_BODIES, PAYMENT_REQUESTS, frozenset(NOT_JSON)], ids=["json", "raw", "402", "not-json"]
)
def test_each_operation_the_tables_name_is_an_endpoint(table: frozenset[tuple[str, str]]) -> None:
    # Given a table of operations with something special about them
    # Then each one is in the endpoint list (a renamed route cannot leave a stale row behind)
    assert set(table) <= OPERATIONS


def test_a_json_body_route_declares_a_json_object_and_an_upload_declares_bytes() -> None:
    # Given the document
    paths = openapi()["paths"]
    # Then a job submission reads a JSON object, a push reads bytes, and a listing reads no body
    job = paths["/api/v1/jobs"]["post"]["requestBody"]["content"]
    assert job == {"application/json": {"schema": {"type": "object"}}}
    push = paths["/api/v1/projects/{name}/push"]["post"]["requestBody"]["content"]
    assert push["application/octet-stream"]["schema"] == {"type": "string", "format": "binary"}
    assert "requestBody" not in paths["/api/v1/jobs"]["get"]


def test_successes_declare_their_media_type_and_errors_the_envelope() -> None:
    # Given the document
    paths = openapi()["paths"]
    # Then a JSON route answers a JSON object, the HTML page HTML, a stream SSE, and every error is the envelope
    assert paths["/api/v1/jobs"]["get"]["responses"]["2XX"]["content"] == {
        "application/json": {"schema": {"type": "object"}}
    }
    assert list(paths["/docs"]["get"]["responses"]["2XX"]["content"]) == ["text/html"]
    assert list(paths["/api/v1/jobs/{job_id}/stream"]["get"]["responses"]["2XX"]["content"]) == ["text/event-stream"]
    # And an artifact's download is bytes while its deletion answers JSON
    artifact = paths["/api/v1/artifacts/{artifact_id}"]
    assert list(artifact["get"]["responses"]["2XX"]["content"]) == ["application/octet-stream"]
    assert list(artifact["delete"]["responses"]["2XX"]["content"]) == ["application/json"]
    for status in ("4XX", "5XX"):
        content = paths["/docs"]["get"]["responses"][status]["content"]
        assert content == {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    assert openapi()["components"]["schemas"]["Error"] == ERROR_ENVELOPE


def test_a_quotes_402_is_the_quote_and_not_the_envelope() -> None:
    # Given the top-up route, whose 402 carries a quote and its x402 requirements
    responses = openapi()["paths"]["/api/v1/account/quotes/topup"]["post"]["responses"]
    # Then its 402 is declared apart from the error envelope of other 4xx
    assert responses["402"]["content"] == {"application/json": {"schema": {"type": "object"}}}
    assert "402" not in openapi()["paths"]["/api/v1/projects/{name}/init"]["post"]["responses"]


@pytest.mark.parametrize("error", [ComputalotError("boom"), NotFound("job 'x' not found", details={"job": "x"})])
def test_the_error_envelope_schema_accepts_what_the_api_answers(error: ComputalotError) -> None:
    # Given an error as the API answers it
    # Then the declared envelope schema accepts it, and refuses a body without the envelope
    jsonschema.validate(error.to_json(), ERROR_ENVELOPE)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"code": error.code}, ERROR_ENVELOPE)


def test_the_parameter_table_names_only_endpoints() -> None:
    # Given the query parameters and headers the routes read
    # Then each operation named is an endpoint
    assert set(PARAMETERS) <= OPERATIONS


def test_a_listing_declares_its_query_parameters_and_a_submission_its_idempotency_header() -> None:
    # Given the document
    paths = openapi()["paths"]
    # Then the job listing declares its filters as optional
    listed = {(p["name"], p["in"], p["required"]) for p in paths["/api/v1/jobs"]["get"]["parameters"]}
    assert ("limit", "query", False) in listed and ("before", "query", False) in listed
    # And an integer is declared as one, an id as a string
    kinds = {p["name"]: p["schema"]["type"] for p in paths["/api/v1/jobs"]["get"]["parameters"]}
    assert (kinds["limit"], kinds["before"]) == ("integer", "string")
    # And a submission declares Idempotency-Key, and a job's stream its path parameter first
    assert paths["/api/v1/jobs"]["post"]["parameters"][0]["name"] == "Idempotency-Key"
    stream = paths["/api/v1/jobs/{job_id}/stream"]["get"]["parameters"]
    assert [(p["name"], p["in"]) for p in stream] == [
        ("job_id", "path"),
        ("last_event_id", "query"),
        ("Last-Event-ID", "header"),
    ]
