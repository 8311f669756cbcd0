"""One body reader for every route: the whole body (Content-Length or chunked) up to the route's limit, or a 413."""

from __future__ import annotations

import io
import json
import os
import tarfile
import time
from collections.abc import AsyncIterator

from broker.messages import AgentHeartbeat, Capabilities
from controller.agents.roster import ROSTER
from tests.controller.api_support import Api, ApiFactory

#: an agent that serves every CPU preset
BIG_CPU = Capabilities(cpu=64, memory_mb=256_000, storage_gb=1000)
MANIFEST = json.dumps({"version": 1, "runtime": {"kind": "process"}, "entrypoint": {"command": ["python3", "run.py"]}})


def project_tarball(filler_bytes: int) -> bytes:
    """A valid project: its manifest, run.py, and `filler_bytes` of incompressible data."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, content in {
            "computalot.project.json": MANIFEST.encode(),
            "run.py": b"print('hi')\n",
            "data.bin": os.urandom(filler_bytes),
        }.items():
            info = tarfile.TarInfo(path)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


async def chunks(data: bytes, size: int = 7919) -> AsyncIterator[bytes]:
    """`data` in odd-sized pieces, so the client sends it with Transfer-Encoding: chunked."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def member_with_project(api: Api) -> str:
    token = await api.token("member", credit_micro=100_000_000)
    status, body, _ = await api.call("POST", "/api/v1/projects", token, json={"name": "big"})
    assert status == 201, body
    return token


async def test_a_project_push_of_a_megabyte_is_read_whole_and_published(api: Api) -> None:
    # Given a valid project tarball of over a megabyte (a partial read used to refuse anything past ~200 KB)
    token = await member_with_project(api)
    data = project_tarball(1_200_000)
    assert len(data) > 1_000_000
    # When it is pushed with a Content-Length
    status, body, _ = await api.call("POST", "/api/v1/projects/big/push", token, data=data)
    # Then it is published
    assert status == 201, body
    assert body["files"] == 3


async def test_a_chunked_project_push_is_read_whole(api: Api) -> None:
    # Given a valid project tarball sent chunked (no Content-Length; it used to read as empty)
    token = await member_with_project(api)
    # When it is pushed, Then it is published
    status, body, _ = await api.call("POST", "/api/v1/projects/big/push", token, data=chunks(project_tarball(300_000)))
    assert status == 201, body


async def test_a_json_body_of_several_hundred_kilobytes_is_read_whole_with_either_framing(api: Api) -> None:
    # Given a pushed project, a live agent for it and a job whose payload is about 600 KB of JSON
    api.app[ROSTER].update(AgentHeartbeat(agent_id="a1", capabilities=BIG_CPU), now=time.monotonic())
    token = await member_with_project(api)
    status, body, _ = await api.call("POST", "/api/v1/projects/big/push", token, data=project_tarball(10))
    assert status == 201, body
    job = {"project": "big", "payload": {"blob": "x" * 600_000}}
    encoded = json.dumps(job).encode()
    headers = {"Content-Type": "application/json"}
    # When it is submitted with a Content-Length, and again chunked
    sized = await api.call("POST", "/api/v1/jobs", token, headers=headers, data=encoded)
    chunked = await api.call("POST", "/api/v1/jobs", token, headers=headers, data=chunks(encoded))
    # Then both are accepted as jobs
    assert sized[0] == 201, sized[1]
    assert chunked[0] == 201, chunked[1]
    assert sized[1]["id"] != chunked[1]["id"]


async def test_a_job_over_the_body_limit_is_a_413_that_says_to_use_an_artifact(make_api: ApiFactory) -> None:
    # Given a controller whose payload limit is 10 KB
    api = await make_api(max_payload_bytes=10_000)
    token = await api.token("member", credit_micro=100_000_000)
    encoded = json.dumps({"project": "p", "payload": {"blob": "x" * 20_000}}).encode()
    for data in (encoded, chunks(encoded)):
        # When a 20 KB submission is sent (declared, then chunked with no length to check up front)
        status, body, _ = await api.call("POST", "/api/v1/jobs", token, data=data)
        # Then it is refused with the limit and what to do instead
        assert status == 413, body
        error = body["error"]
        assert error["code"] == "payload_too_large"
        assert error["details"] == {"limit_bytes": 10_000}
        assert "`_artifacts.download`" in error["recommended_action"]


async def test_a_push_over_its_limit_is_a_413_even_when_chunked(make_api: ApiFactory) -> None:
    # Given a controller that takes pushes of at most 100 KB
    api = await make_api(max_push_bytes=100_000)
    token = await member_with_project(api)
    # When a 300 KB push arrives chunked
    status, body, _ = await api.call("POST", "/api/v1/projects/big/push", token, data=chunks(project_tarball(300_000)))
    # Then it is refused as too large, saying what to leave out, and nothing is published
    assert status == 413, body
    assert "artifacts" in body["error"]["recommended_action"]
    status, project, _ = await api.call("GET", "/api/v1/projects/big", token)
    assert project["active_revision"] is None
