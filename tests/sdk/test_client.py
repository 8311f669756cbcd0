"""ComputalotClient against a real loopback aiohttp server: paths, methods, headers, bodies, errors, wait."""

from __future__ import annotations

import ast
import io
import socket
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from computalot import (
    DEFAULT_URL,
    ComputalotClient,
    ConnectionFailed,
    NotFound,
    ServiceUnavailable,
    ValidationError,
    __version__,
    build_tarball,
)
from computalot.client import resolve_token, resolve_url

from .conftest import FakeController

SDK_DIR = Path(__file__).resolve().parents[2] / "sdk" / "computalot"


@pytest.fixture
def client(controller: FakeController) -> Iterator[ComputalotClient]:
    with ComputalotClient(controller.url, "flk_test") as c:
        yield c


# -- configuration ---------------------------------------------------------------------------------------------


def test_url_and_token_come_from_arguments_first(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given both env vars set
    monkeypatch.setenv("COMPUTALOT_URL", "http://env:1")
    monkeypatch.setenv("COMPUTALOT_TOKEN", "flk_env")

    # When arguments are given too
    # Then the arguments win, and a trailing slash is dropped
    assert resolve_url("https://computalot.com/") == "https://computalot.com"
    assert resolve_token("flk_arg") == "flk_arg"


def test_url_and_token_fall_back_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given both env vars set
    monkeypatch.setenv("COMPUTALOT_URL", "http://env:1/")
    monkeypatch.setenv("COMPUTALOT_TOKEN", "flk_env")

    # When no arguments are given
    # Then the environment is used
    assert resolve_url() == "http://env:1"
    assert resolve_token() == "flk_env"
    with ComputalotClient() as c:
        assert c.controller_url == "http://env:1"


def test_without_arguments_or_environment_the_local_default_and_no_token_are_used() -> None:
    # Given no env vars (cleared by the autouse fixture)
    # When nothing is given
    # Then the local default URL and no token are used
    assert resolve_url() == DEFAULT_URL == "http://127.0.0.1:8470"
    assert resolve_token() is None


def test_the_token_from_the_environment_is_sent_as_a_bearer_header(
    controller: FakeController, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the URL and token only in the environment
    monkeypatch.setenv("COMPUTALOT_URL", controller.url)
    monkeypatch.setenv("COMPUTALOT_TOKEN", "flk_from_env")
    controller.reply("GET", "/api/v1/recipes", {"recipes": []})

    # When a client built without arguments calls the API
    with ComputalotClient() as c:
        c.list_recipes()

    # Then the request carried the env token
    assert controller.sent("GET", "/api/v1/recipes")[0].headers["authorization"] == "Bearer flk_from_env"


def test_without_a_token_no_authorization_header_is_sent(controller: FakeController) -> None:
    # Given a client with no token
    controller.reply("GET", "/health", {"status": "ok"})

    # When it calls a public endpoint
    with ComputalotClient(controller.url) as c:
        assert c.health() == {"status": "ok"}

    # Then no Authorization header was sent
    assert "authorization" not in controller.sent("GET", "/health")[0].headers


# -- requests --------------------------------------------------------------------------------------------------


def test_list_recipes_sends_a_bearer_get_and_returns_the_json(
    client: ComputalotClient, controller: FakeController
) -> None:
    # Given a recipe list
    controller.reply("GET", "/api/v1/recipes", {"recipes": [{"name": "packing"}]})

    # When it is listed
    answer = client.list_recipes()

    # Then the JSON comes back and the request was an authenticated GET
    assert answer == {"recipes": [{"name": "packing"}]}
    request = controller.sent("GET", "/api/v1/recipes")[0]
    assert request.headers["authorization"] == "Bearer flk_test"
    assert request.headers["user-agent"] == f"computalot-python/{__version__}"


def test_list_jobs_sends_only_the_filters_given(client: ComputalotClient, controller: FakeController) -> None:
    # Given a job list
    controller.reply("GET", "/api/v1/jobs", {"jobs": [], "next_before": None})

    # When jobs are listed with defaults, then with every filter
    client.list_jobs()
    client.list_jobs(limit=5, status="running", project="p", tag="t", before="c1")

    # Then the query strings hold exactly what was given
    first, second = controller.sent("GET", "/api/v1/jobs")
    assert first.query == {"limit": "50"}
    assert second.query == {"limit": "5", "status": "running", "project": "p", "tag": "t", "before": "c1"}


def test_job_reads_hit_their_paths(client: ComputalotClient, controller: FakeController) -> None:
    # Given answers for every job read
    for path in ("/api/v1/jobs/j1", "/api/v1/jobs/j1/tasks", "/api/v1/jobs/j1/output", "/api/v1/jobs/j1/events"):
        controller.reply("GET", path, {"path": path})
    controller.reply("GET", "/api/v1/results/j1", {"job_id": "j1"})

    # When each is read
    assert client.get_job("j1") == {"path": "/api/v1/jobs/j1"}
    client.get_tasks("j1")
    client.get_tasks("j1", limit=10, offset=20)
    client.get_output("j1")
    client.get_events("j1", after=7)
    assert client.get_results("j1") == {"job_id": "j1"}

    # Then paging parameters were passed only when given
    assert [r.query for r in controller.sent("GET", "/api/v1/jobs/j1/tasks")] == [{}, {"limit": "10", "offset": "20"}]
    assert controller.sent("GET", "/api/v1/jobs/j1/events")[0].query == {"limit": "200", "after": "7"}


def test_submit_job_merges_spec_and_fields_and_sends_the_idempotency_key(
    client: ComputalotClient, controller: FakeController
) -> None:
    # Given a submit endpoint
    controller.reply("POST", "/api/v1/jobs", {"job_id": "j1", "status": "planning"}, status=201)

    # When a job is submitted from a spec plus keyword fields, with and without a key
    answer = client.submit_job({"project": "p", "timeout_s": 60}, idempotency_key="k-1", timeout_s=120, tags=["a"])
    client.submit_job(project="p")

    # Then fields override the spec, the body is JSON, and only the first carries the key
    assert answer == {"job_id": "j1", "status": "planning"}
    first, second = controller.sent("POST", "/api/v1/jobs")
    assert first.json() == {"project": "p", "timeout_s": 120, "tags": ["a"]}
    assert first.headers["idempotency-key"] == "k-1"
    assert first.headers["content-type"] == "application/json"
    assert second.json() == {"project": "p"} and "idempotency-key" not in second.headers


def test_submit_recipe_wraps_the_payload(client: ComputalotClient, controller: FakeController) -> None:
    # Given the recipe submit endpoint
    controller.reply("POST", "/api/v1/recipes/packing/jobs", {"job_id": "j2"}, status=201)

    # When a recipe job is submitted
    client.submit_recipe("packing", {"operation": "eval"}, timeout_s=300)

    # Then the body is the payload plus the fields
    body = controller.sent("POST", "/api/v1/recipes/packing/jobs")[0].json()
    assert body == {"payload": {"operation": "eval"}, "timeout_s": 300}


def test_cancel_is_a_put(client: ComputalotClient, controller: FakeController) -> None:
    # Given the cancel endpoint
    controller.reply("PUT", "/api/v1/jobs/j1/cancel", {"job_id": "j1", "status": "cancelled"})

    # When a job is cancelled
    # Then a PUT was sent and the answer returned
    assert client.cancel_job("j1")["status"] == "cancelled"
    assert len(controller.sent("PUT", "/api/v1/jobs/j1/cancel")) == 1


def test_path_segments_are_percent_encoded(client: ComputalotClient, controller: FakeController) -> None:
    # Given an id with a slash and a space
    # When it is looked up
    with pytest.raises(NotFound):
        client.get_project("a/b c")

    # Then the segment arrived encoded, not as two segments
    assert controller.requests[0].raw_path == "/api/v1/projects/a%2Fb%20c"


def test_project_calls_hit_their_paths(client: ComputalotClient, controller: FakeController) -> None:
    # Given the project endpoints
    controller.reply("POST", "/api/v1/projects", {"name": "p"}, status=201)
    controller.reply("GET", "/api/v1/projects", {"projects": [{"name": "p"}]})
    controller.reply("GET", "/api/v1/projects/p", {"name": "p"})
    controller.reply("GET", "/api/v1/projects/p/status", {"can_accept_new_jobs": True})

    # When each is called
    client.create_project("p")
    client.create_project("p", remote_dir="/root/projects/p", description="d")
    assert client.list_projects() == {"projects": [{"name": "p"}]}
    assert client.get_project("p") == {"name": "p"}
    assert client.project_status("p") == {"can_accept_new_jobs": True}

    # Then create sends only the fields given
    bodies = [r.json() for r in controller.sent("POST", "/api/v1/projects")]
    assert bodies == [{"name": "p"}, {"name": "p", "remote_dir": "/root/projects/p", "description": "d"}]


def test_push_sends_the_raw_gzip_tarball(client: ComputalotClient, controller: FakeController, tmp_path: Path) -> None:
    # Given a project directory and the push endpoint
    (tmp_path / "run.py").write_text("print(1)\n")
    (tmp_path / "computalot.project.json").write_text("{}")
    pushed = {"revision": 1, "content_hash": "sha256:ab", "files": 2, "size_bytes": 9, "tarball_diff": {}}
    controller.reply("POST", "/api/v1/projects/p/push", {**pushed, "published": True})

    # When it is pushed
    answer = client.push_project("p", tmp_path)

    # Then the body is exactly build_tarball's bytes, raw with the gzip content type
    assert answer["revision"] == 1 and answer["published"] is True
    request = controller.sent("POST", "/api/v1/projects/p/push")[0]
    assert request.headers["content-type"] == "application/gzip"
    assert request.body == build_tarball(tmp_path)
    with tarfile.open(fileobj=io.BytesIO(request.body), mode="r:gz") as tar:
        assert tar.getnames() == ["computalot.project.json", "run.py"]


def test_docs_llm_returns_the_text(client: ComputalotClient, controller: FakeController) -> None:
    # Given the served llms.txt
    controller.reply("GET", "/llms.txt", text="# Computalot API Reference\n")

    # When it is fetched
    # Then the text comes back as is
    assert client.docs_llm() == "# Computalot API Reference\n"


# -- errors ----------------------------------------------------------------------------------------------------


def test_an_error_envelope_raises_the_mapped_error(client: ComputalotClient, controller: FakeController) -> None:
    # Given a 422 with invalid fields
    fields = [{"field": "bogus", "message": "unknown field"}]
    error = {"code": "validation_failed", "message": "bogus: unknown field", "recommended_action": "Fix it."}
    controller.reply("POST", "/api/v1/jobs", {"error": {**error, "details": {"fields": fields}}}, status=422)

    # When a job is submitted
    with pytest.raises(ValidationError) as caught:
        client.submit_job(project="p", bogus=1)

    # Then the error carries the envelope
    assert caught.value.fields == fields
    assert caught.value.recommended_action == "Fix it."


def test_a_plain_text_error_still_raises_by_status(client: ComputalotClient, controller: FakeController) -> None:
    # Given a 503 with a text body
    controller.reply("GET", "/health", text="starting up", status=503)

    # When health is read
    # Then ServiceUnavailable carries the text
    with pytest.raises(ServiceUnavailable, match="starting up"):
        client.health()


def test_an_unreachable_controller_raises_connection_failed() -> None:
    # Given a port nobody listens on
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    # When a call is made
    # Then ConnectionFailed names the URL
    with ComputalotClient(f"http://127.0.0.1:{port}", timeout_s=2) as c, pytest.raises(ConnectionFailed) as caught:
        c.list_jobs()
    assert str(port) in caught.value.message and caught.value.recommended_action


# -- wait ------------------------------------------------------------------------------------------------------


def test_wait_polls_until_terminal_then_returns_the_results(
    client: ComputalotClient, controller: FakeController
) -> None:
    # Given a job that is queued, running twice, then partial
    for status in ("queued", "running", "running", "partial"):
        controller.reply("GET", "/api/v1/jobs/j1", {"job_id": "j1", "status": status})
    controller.reply("GET", "/api/v1/results/j1", {"job_id": "j1", "status": "partial", "completeness": 0.5})

    # When it is waited on
    results = client.wait("j1", poll_s=0.01)

    # Then it polled four times and returned the results
    assert results["completeness"] == 0.5
    assert len(controller.sent("GET", "/api/v1/jobs/j1")) == 4
    assert len(controller.sent("GET", "/api/v1/results/j1")) == 1


@pytest.mark.parametrize("status", ["completed", "partial", "failed", "cancelled"])
def test_wait_returns_at_once_for_every_terminal_status(
    client: ComputalotClient, controller: FakeController, status: str
) -> None:
    # Given a job already terminal
    controller.reply("GET", "/api/v1/jobs/j1", {"job_id": "j1", "status": status})
    controller.reply("GET", "/api/v1/results/j1", {"job_id": "j1", "status": status})

    # When it is waited on
    # Then one poll is enough
    assert client.wait("j1", poll_s=10)["status"] == status
    assert len(controller.sent("GET", "/api/v1/jobs/j1")) == 1


def test_wait_raises_timeout_error_past_the_deadline(client: ComputalotClient, controller: FakeController) -> None:
    # Given a job that never finishes
    controller.reply("GET", "/api/v1/jobs/j1", {"job_id": "j1", "status": "running"})

    # When it is waited on with a short timeout
    # Then TimeoutError says how it stands, and no results were fetched
    with pytest.raises(TimeoutError, match="j1 is still running"):
        client.wait("j1", timeout_s=0.2, poll_s=0.01)
    assert len(controller.sent("GET", "/api/v1/jobs/j1")) >= 2
    assert controller.sent("GET", "/api/v1/results/j1") == []


# -- packaging -------------------------------------------------------------------------------------------------


def test_the_sdk_imports_nothing_of_the_server() -> None:
    # Given every module of the SDK
    imported = set()
    for path in SDK_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])

    # When its absolute imports are collected
    # Then none is a server package, and third-party ones are only the declared dependencies
    assert not imported & {"controller", "broker", "agent", "recipes"}
    stdlib = {"__future__", "ast", "collections", "datetime", "gzip", "io", "json", "logging", "os", "shlex"}
    stdlib |= {"stat", "tarfile", "time", "types", "typing", "urllib", "pathlib"}
    stdlib |= {"contextlib", "hashlib"}  # artifact transfers
    stdlib |= {"dataclasses"}  # live streams
    stdlib |= {"base64", "secrets"}  # x402 payments
    extras = {"zmq", "msgpack"}  # the `zmq` extra, imported only by computalot.subscribe
    extras |= {"eth_account"}  # the `x402` extra, imported only when paying or signing in
    assert imported - stdlib - extras <= {"httpx", "click", "rich"}


def test_the_package_ships_py_typed() -> None:
    # Given the package directory
    # When py.typed is looked for
    # Then it is there
    assert (SDK_DIR / "py.typed").is_file()
