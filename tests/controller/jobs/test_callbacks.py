"""Callback signing, address checks and delivery with retries, against a real local HTTP server."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import time
from pathlib import Path

import pytest
from aiohttp import web

from broker.messages import AgentHeartbeat, Capabilities
from controller.accounts.auth import create_account
from controller.agents.roster import ROSTER
from controller.core.db import Store
from controller.jobs import addresses, callbacks
from controller.jobs.callbacks import CallbackSender, backoff_s, private_address, sign
from controller.jobs.models import Callback, Job
from controller.schema import open_database
from tests.controller.api_support import Api
from tests.controller.test_app import PACKING_EVAL


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


#: (address, public?): each IPv6 form that embeds an IPv4 address, around loopback, private and public ones
EMBEDDED = [
    ("::ffff:127.0.0.1", False),  # IPv4-mapped
    ("::ffff:10.0.0.1", False),
    ("::127.0.0.1", False),  # IPv4-compatible
    ("::169.254.169.254", False),
    ("::ffff:0:127.0.0.1", False),  # IPv4-translated (SIIT)
    ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
    ("2002:c0a8:1::1", False),  # 6to4 of 192.168.0.1
    ("2002:808:808::1", True),  # 6to4 of 8.8.8.8
    ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
    ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254
    ("64:ff9b::808:808", True),  # NAT64 of 8.8.8.8
    ("64:ff9b:1::808:808", False),  # NAT64 local-use prefix: the operator's own network
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", False),  # Teredo, client 127.0.0.1 (obfuscated)
    ("2001:0:7f00:1:8000:63bf:f7f7:f7f7", False),  # Teredo, server 127.0.0.1
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo with public ends: Python counts 2001::/23 internal
    ("2606:4700:4700::1111", True),  # an ordinary public IPv6 address
    ("8.8.8.8", True),
    ("100.64.0.1", False),  # carrier-grade NAT
    ("224.0.0.1", False),  # multicast
    ("ff02::1", False),
]


@pytest.mark.parametrize(("address", "public"), EMBEDDED)
def test_every_ipv6_form_that_embeds_an_internal_ipv4_address_is_internal(address: str, public: bool) -> None:
    # Given an address, When it is judged, Then it is public only if it and every IPv4 address inside it are
    assert addresses.is_public(ipaddress.ip_address(address)) is public
    assert (addresses.internal_address(address) is None) is public


def test_the_embedded_ipv4_addresses_are_found_in_each_form() -> None:
    # Given one IPv6 address of each form, When the IPv4 addresses inside are extracted, Then they are found
    found = {a: addresses.embedded_ipv4(ipaddress.IPv6Address(a)) for a in ("::ffff:1.2.3.4", "::1.2.3.4")}
    found["6to4"] = addresses.embedded_ipv4(ipaddress.IPv6Address("2002:102:304::"))
    found["nat64"] = addresses.embedded_ipv4(ipaddress.IPv6Address("64:ff9b::102:304"))
    found["teredo"] = addresses.embedded_ipv4(ipaddress.IPv6Address("2001:0:4136:e378:8000:63bf:3fff:fdd2"))
    v4 = ipaddress.IPv4Address
    assert found == {
        "::ffff:1.2.3.4": [v4("1.2.3.4")],
        "::1.2.3.4": [v4("1.2.3.4")],
        "6to4": [v4("1.2.3.4")],
        "nat64": [v4("1.2.3.4")],
        "teredo": [v4("65.54.227.120"), v4("192.0.2.45")],
    }


LOOPBACK_IN_IPV6 = [
    "http://[::127.0.0.1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[::ffff:7f00:1]:8080/hook",
    "http://[::ffff:0:127.0.0.1]/hook",
    "https://[2002:7f00:1::1]/hook",
    "http://[64:ff9b::127.0.0.1]/hook",
    "http://[64:ff9b:1::7f00:1]/hook",
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook",
]


@pytest.mark.parametrize("url", LOOPBACK_IN_IPV6)
def test_a_callback_url_with_loopback_inside_an_ipv6_address_is_internal(url: str) -> None:
    # Given a URL whose host is an IPv6 address carrying 127.0.0.1, When it is checked, Then that address is named
    assert private_address(url) == str(ipaddress.ip_address(url.split("[")[1].split("]")[0]))


@pytest.mark.parametrize("url", LOOPBACK_IN_IPV6)
async def test_each_ipv6_embedded_loopback_callback_is_refused_at_submit(api: Api, url: str) -> None:
    # Given a member and a live agent offering the packing recipe
    beat = AgentHeartbeat(agent_id="a1", capabilities=Capabilities(recipes=("packing",)))
    api.app[ROSTER].update(beat, now=time.monotonic())
    token = await api.token(credit_micro=10_000_000)

    # When it submits a job whose callback_url hides loopback in an IPv6 address
    body = {**PACKING_EVAL, "callback_url": url}
    status, answer, _ = await api.call("POST", "/api/v1/jobs", token, json=body)

    # Then the job is refused on that field and none is created
    assert (status, answer["error"]["code"]) == (422, "validation_failed"), answer
    assert answer["error"]["details"]["fields"][0]["field"] == "callback_url"
    assert (await api.call("GET", "/api/v1/jobs", token))[1]["jobs"] == []


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


async def test_a_callback_to_a_host_that_resolves_to_loopback_at_delivery_is_refused(store: Store, aiohttp_server):
    # Given a listening endpoint reached through the name `localhost`, which resolves to loopback when sending
    url, received = await _serve(aiohttp_server, [])
    _, callback, _ = _job_with_callback(url.replace("127.0.0.1", "localhost"))

    # When the sender (private callbacks not allowed) delivers it
    sender = CallbackSender(store, allow_private=False)
    await sender._deliver(*(await store.read(callbacks._due, time.time(), 10))[0])
    await sender.stop()

    # Then it is refused for good, naming the loopback address, and nothing reached the endpoint
    row = Callback.get_by_id(callback.id)
    assert row.status == "failed" and "internal address" in row.last_error
    assert "127.0.0.1" in row.last_error or "::1" in row.last_error
    assert received == []


async def test_a_host_rebound_to_loopback_after_submit_is_refused_at_delivery(
    store: Store, aiohttp_server, monkeypatch: pytest.MonkeyPatch
):
    # Given a host that resolved to a public address when the job was submitted
    answers = {"hooks.example": ["93.184.216.34"]}
    monkeypatch.setattr(callbacks, "resolve", lambda host: answers[host])
    url = "http://hooks.example/hook"
    assert private_address(url) is None
    _, callback, _ = _job_with_callback(url)

    # When its DNS answer changes to loopback before the callback is sent
    answers["hooks.example"] = ["93.184.216.34", "127.0.0.1"]
    sender = CallbackSender(store, allow_private=False)
    await sender._deliver(*(await store.read(callbacks._due, time.time(), 10))[0])
    await sender.stop()

    # Then the delivery is refused, naming the address
    row = Callback.get_by_id(callback.id)
    assert row.status == "failed" and "internal address (127.0.0.1)" in row.last_error


def test_a_delivery_is_pinned_to_the_address_just_checked_with_the_hosts_own_name(monkeypatch: pytest.MonkeyPatch):
    # Given a host that resolves to public addresses
    monkeypatch.setattr(callbacks, "resolve", lambda host: ["2606:4700:4700::1111", "93.184.216.34"])

    # When a request to it is pinned
    plain = callbacks.pin("http://hooks.example:8080/hook?job=1")
    tls = callbacks.pin("https://hooks.example/hook")

    # Then it goes to the first checked address, while Host and the TLS name stay the host's
    assert str(plain.url) == "http://[2606:4700:4700::1111]:8080/hook?job=1"
    assert plain.headers == {"Host": "hooks.example:8080"} and plain.extensions == {}
    assert str(tls.url) == "https://[2606:4700:4700::1111]/hook"
    assert tls.headers == {"Host": "hooks.example"} and tls.extensions == {"sni_hostname": "hooks.example"}
