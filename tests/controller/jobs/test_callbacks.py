"""Callback signing, address checks and delivery with retries, against a real local HTTP server."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest
from aiohttp import web

from controller.accounts.auth import create_account
from controller.core.db import Store
from controller.jobs import callbacks
from controller.jobs.callbacks import CallbackSender, backoff_s, private_address, sign
from controller.jobs.models import Callback, Job
from controller.schema import open_database


def test_the_signature_is_an_hmac_sha256_of_the_body_keyed_by_the_secret():
    body = b'{"job_id":"job_1","status":"completed"}'
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert sign(body, "s3cret") == f"sha256={expected}"
    assert sign(body + b" ", "s3cret") != sign(body, "s3cret")


@pytest.mark.parametrize(
    "url,internal",
    [
        ("http://127.0.0.1:9/hook", "127.0.0.1"),
        ("http://10.1.2.3/hook", "10.1.2.3"),
        ("http://192.168.0.7/x", "192.168.0.7"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254"),
        ("http://[::1]/hook", "::1"),
        ("https://8.8.8.8/hook", None),
    ],
)
def test_private_loopback_and_link_local_addresses_are_detected(url: str, internal: str | None):
    assert private_address(url) == internal


def test_an_unresolvable_host_is_refused_with_the_reason():
    assert "does not resolve" in private_address("http://no-such-host.invalid/hook")


def test_backoff_doubles_from_two_seconds_and_is_capped_at_an_hour():
    assert [backoff_s(n) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]
    assert backoff_s(40) == 3600.0


@pytest.fixture
def store(tmp_path: Path):
    store = Store(open_database(f"sqlite:///{tmp_path / 'db.sqlite'}"))
    yield store
    store.close()


def _job_with_callback(url: str) -> tuple[Job, Callback, str]:
    with Job._meta.database.atomic():
        account = create_account("hooked")
        job = Job.create(
            id="job_cb",
            account=account,
            status="completed",
            spec={"callback_url": url},
            task_count=1,
            created_at=time.time(),
        )
        callback = Callback.create(job=job, url=url, body={"job_id": job.id, "status": "completed"}, next_at=0)
    return job, callback, account.webhook_secret


async def _serve(aiohttp_server, statuses: list[int]):
    received: list[tuple[bytes, dict]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((await request.read(), dict(request.headers)))
        return web.Response(status=statuses.pop(0) if statuses else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    server = await aiohttp_server(app)
    return f"http://127.0.0.1:{server.port}/hook", received


async def test_a_due_callback_is_delivered_once_with_its_signature(store: Store, aiohttp_server):
    url, received = await _serve(aiohttp_server, [])
    _, callback, secret = _job_with_callback(url)
    sender = CallbackSender(store, allow_private=True)
    await sender._deliver(*(await store.read(callbacks._due, time.time(), 10))[0])
    await sender.stop()
    body, headers = received[0]
    assert headers["X-Computalot-Signature"] == sign(body, secret)
    assert json.loads(body) == {"job_id": "job_cb", "status": "completed"}
    row = Callback.get_by_id(callback.id)
    assert (row.status, row.attempts) == ("delivered", 1)
    assert await store.read(callbacks._due, time.time() + 10_000, 10) == []


async def test_a_failing_endpoint_is_retried_later_and_given_up_after_the_last_attempt(store: Store, aiohttp_server):
    url, received = await _serve(aiohttp_server, [500] * 100)
    _, callback, _ = _job_with_callback(url)
    sender = CallbackSender(store, allow_private=True)
    for attempt in range(1, callbacks.MAX_ATTEMPTS + 1):
        due = await store.read(callbacks._due, time.time() + 10_000, 10)
        assert len(due) == 1
        await sender._deliver(*due[0])
        row = Callback.get_by_id(callback.id)
        assert row.attempts == attempt and row.last_error == "HTTP 500"
    await sender.stop()
    assert Callback.get_by_id(callback.id).status == "failed"
    assert len(received) == callbacks.MAX_ATTEMPTS


async def test_a_private_address_is_refused_at_once_unless_the_operator_allows_it(store: Store, aiohttp_server):
    url, received = await _serve(aiohttp_server, [])
    _, callback, _ = _job_with_callback(url)
    sender = CallbackSender(store, allow_private=False)
    await sender._deliver(*(await store.read(callbacks._due, time.time(), 10))[0])
    await sender.stop()
    row = Callback.get_by_id(callback.id)
    assert row.status == "failed" and "internal address" in row.last_error
    assert received == []
