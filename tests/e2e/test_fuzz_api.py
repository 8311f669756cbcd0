"""Fuzzing every documented route of the embedded platform with schemathesis, from the served OpenAPI document.

The document is built at collection time by the same function that serves it (`openapi()`), so pytest gets one test
per operation; the first test below checks that the served document is that one. Requests carry a member's token, so
admin routes answer 403 and the run never revokes its own key; nothing else is excluded. Generated ids name nothing,
so each operation with an id in its path runs a second time on the caller's real objects (a finished job, a fresh
project, artifact and multipart upload), with the rest of the request still fuzzed. The run is seeded and bounded
(MAX_EXAMPLES per operation and mode) so CI replays the same requests.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator

import httpx
import pytest
import schemathesis
from computalot import ComputalotClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from controller.docs.openapi import openapi
from tests.conftest_platform import Platform, make_project, process_manifest
from tests.e2e.conftest import SCRIPT

#: Generated requests per operation and phase; with ~75 operations this keeps the run to a couple of minutes.
MAX_EXAMPLES = 25
#: Fixed, so every run sends the same requests (a failure seen in CI replays locally).
SEED = 20261202

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        # no example database: nothing is written under the worktree and no earlier run changes this one
        "generation": {"max-examples": MAX_EXAMPLES, "mode": "all", "database": "none"},
        # every answer here takes milliseconds; the bound only stops a stream that does not end
        "request-timeout": 10,
        # a project's stream has no end (a project never finishes): read its first event, or 2 s of silence
        "operations": [
            {"include-path": "/api/v1/projects/{name}/stream", "request-timeout": 2, "max-stream-events": 1}
        ],
    }
)
DOCUMENT = openapi()
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)
#: The operations with an id in their path (a document of its own: schemathesis 4.32's `include` filters nothing).
SCHEMA_WITH_IDS = schemathesis.openapi.from_dict(
    {**DOCUMENT, "paths": {path: item for path, item in DOCUMENT["paths"].items() if "{" in path}}, config=CONFIG
)
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]
#: Headers the HTTP client sets from the body. A generated value is refused by aiohttp's HTTP parser (a text/plain 400
#: before any route runs), so it would fuzz aiohttp, not this API: the client's own value is kept.
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding"})


@pytest.fixture(scope="module")
def member_token(embedded: Platform) -> str:
    """One member account for the whole run: admin routes answer it 403, so the run cannot change its own access."""
    return embedded.new_token("member")


def send(case: schemathesis.Case, url: str, token: str) -> schemathesis.Response:
    """Send `case` with the member's token, leaving the framing headers to the HTTP client."""
    if case.headers:
        case.headers = {name: value for name, value in case.headers.items() if name.lower() not in FRAMING_HEADERS}
    return case.call(base_url=url, headers={"Authorization": f"Bearer {token}"})


class RealObjects:
    """The member's real objects, by path parameter name; made on first use, so only operations that need them pay."""

    def __init__(self, platform: Platform, token: str, job_id: str) -> None:
        self.platform, self.token, self.job_id = platform, token, job_id
        self._made: dict[str, str] = {}

    def path_parameters(self, path: str, generated: dict[str, object]) -> dict[str, object]:
        """`generated` with each id this run owns replaced by a real one (a recipe name under /recipes/)."""
        real = dict(generated)
        for name in generated:
            key = "recipe" if name == "name" and path.startswith("/api/v1/recipes/") else name
            value = self._real(key)
            if value is not None:
                real[name] = value
        return real

    def _real(self, key: str) -> str | None:
        if key == "job_id":
            return self.job_id
        if key in _MAKERS and key not in self._made:
            self._made[key] = _MAKERS[key](self.platform, self.token)
        return self._made.get(key)


def _project(platform: Platform, token: str) -> str:
    """A pushed project, so its stream has an event to show."""
    with ComputalotClient(platform.url, token) as owner:
        return make_project(owner, {"computalot.project.json": process_manifest(["python3", "run.py"])})


def _artifact(platform: Platform, token: str) -> str:
    with platform.http(token) as http:
        created = http.post("/api/v1/artifacts", content=secrets.token_bytes(64), headers={"X-Artifact-Filename": "a"})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _upload(platform: Platform, token: str) -> str:
    with platform.http(token) as http:
        started = http.post("/api/v1/artifacts/multipart", json={"filename": "m.bin", "size": 1024})
    assert started.status_code == 201, started.text
    return str(started.json()["upload_id"])


def _recipe(platform: Platform, token: str) -> str:
    with platform.http(token) as http:
        return str(http.get("/api/v1/recipes").json()["recipes"][0]["name"])


_MAKERS: dict[str, Callable[[Platform, str], str]] = {
    "name": _project,
    "artifact_id": _artifact,
    "upload_id": _upload,
    "recipe": _recipe,
}


@pytest.fixture(scope="module")
def finished_job(embedded: Platform, member_token: str) -> str:
    """A job of the member that has ended, so its streams replay and end at once."""
    with ComputalotClient(embedded.url, member_token) as owner:
        project = make_project(
            owner, {"computalot.project.json": process_manifest(["python3", "run.py"]), "run.py": SCRIPT}
        )
        job = owner.submit_job(
            type="structured_runner", runner_command=["python3", "run.py"], payload={}, project=project
        )
        for _ in owner.stream(job["id"]):  # the stream ends when the job does
            pass
    return str(job["id"])


@pytest.fixture
def real_objects(embedded: Platform, member_token: str, finished_job: str) -> RealObjects:
    """Fresh for each operation, so a DELETE in one operation's examples leaves the others their objects."""
    return RealObjects(embedded, member_token, finished_job)


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
    assert served.json() == DOCUMENT


@SCHEMA.parametrize()
def test_every_route_answers_fuzzed_requests_without_a_server_error_and_as_documented(
    case: schemathesis.Case, embedded: Platform, member_token: str, healthy_after: None
) -> None:
    # Given a generated request for one operation, sent with a member's token
    # When it reaches the platform
    response = send(case, embedded.url, member_token)
    # Then no answer is a 5xx, and each has the content type and body the document declares
    case.validate_response(response, checks=CHECKS)


@SCHEMA_WITH_IDS.parametrize()
# real_objects is fresh per operation on purpose (see the fixture); its examples share it
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_route_with_an_id_answers_fuzzed_requests_about_the_callers_real_objects_without_a_server_error(
    case: schemathesis.Case, embedded: Platform, member_token: str, real_objects: RealObjects, healthy_after: None
) -> None:
    # Given a generated request for an operation with an id in its path, the ids swapped for the caller's own objects
    case.path_parameters = real_objects.path_parameters(case.operation.path, case.path_parameters or {})
    # When it reaches the platform
    response = send(case, embedded.url, member_token)
    # Then no answer is a 5xx, and each has the content type and body the document declares
    case.validate_response(response, checks=CHECKS)
