"""Fuzzing every documented route of the embedded platform with schemathesis, from the served OpenAPI document.

The document is built at collection time by the same function that serves it (`openapi()`), so pytest gets one test
per operation; the first test below checks that the served document is that one. Requests carry a member's token, so
admin routes answer 403 and the run never revokes its own key; nothing else is excluded. The run is seeded and
bounded (MAX_EXAMPLES per operation) so CI replays the same requests.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from controller.docs.openapi import openapi
from tests.conftest_platform import Platform

#: Generated requests per operation and phase; with ~75 operations this keeps the run to a couple of minutes.
MAX_EXAMPLES = 25
#: Fixed, so every run sends the same requests (a failure seen in CI replays locally).
SEED = 20261202

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        # no example database: nothing is written under the worktree and no earlier run changes this one
        "generation": {"max-examples": MAX_EXAMPLES, "mode": "all", "database": "none"},
        # SSE routes end their stream once the job is unknown or terminal; the timeout bounds a mistake there
        "request-timeout": 30,
    }
)
SCHEMA = schemathesis.openapi.from_dict(openapi(), config=CONFIG)
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]
#: Headers the HTTP client sets from the body. A generated value is refused by aiohttp's HTTP parser (a text/plain 400
#: before any route runs), so it would fuzz aiohttp, not this API: the client's own value is kept.
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding"})


@pytest.fixture(scope="module")
def member_token(embedded: Platform) -> str:
    """One member account for the whole run: admin routes answer it 403, so the run cannot change its own access."""
    return embedded.new_token("member")


@pytest.fixture(scope="module")
def healthy_after(embedded: Platform) -> Iterator[None]:
    """After every fuzzed request, the platform still answers its health probe."""
    yield
    assert httpx.get(f"{embedded.url}/health", timeout=10).status_code == 200


def test_the_served_openapi_document_is_the_one_fuzzed(embedded: Platform) -> None:
    # Given the running platform
    # When its OpenAPI document is fetched
    served = httpx.get(f"{embedded.url}/api/v1/docs/openapi.json", timeout=10)
    # Then it is the document the fuzzing tests below were generated from
    assert served.status_code == 200
    assert served.json() == openapi()


@SCHEMA.parametrize()
def test_every_route_answers_fuzzed_requests_without_a_server_error_and_as_documented(
    case: schemathesis.Case, embedded: Platform, member_token: str, healthy_after: None
) -> None:
    # Given a generated request for one operation, sent with a member's token
    if case.headers:
        case.headers = {name: value for name, value in case.headers.items() if name.lower() not in FRAMING_HEADERS}
    # When it reaches the platform
    response = case.call(base_url=embedded.url, headers={"Authorization": f"Bearer {member_token}"})
    # Then no answer is a 5xx, and each has the content type and body the document declares
    case.validate_response(response, checks=CHECKS)
