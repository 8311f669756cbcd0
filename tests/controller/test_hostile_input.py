"""The catch-all: hostile values of every kind, sent to every route, never answer 5xx nor change state when refused.

Requests are written by hand on a raw socket so that any byte can go anywhere (headers, path, body framing).
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import peewee as pw
import pytest

from controller.core.json_depth import MAX_JSON_DEPTH
from controller.core.settings import LOCAL_DEV_FACILITATOR
from controller.core.web import STORE
from controller.docs.routes import ENDPOINTS
from controller.schema import MODELS
from tests.controller.api_support import Api, ApiFactory

#: Whole bodies: empty, deep, not JSON, not UTF-8, JSON of the wrong type.
HOSTILE_BODIES: tuple[bytes, ...] = (
    b"",
    b" ",
    b"[" * 65536,
    b'{"a":' * 20000,
    b"[" * 101 + b"]" * 101,
    b"9" * 5000,
    b"NaN",
    b"-Infinity",
    b"\x00",
    b"\xff\xfe\xfd",
    b'"\xc3\xa9"',
    b"null",
    b"[]",
    b"123",
    b"{",
)

#: JSON fragments put in one field at a time: huge and odd numbers, NaN, non-ASCII, NUL, lone surrogates,
#: empty and long strings, wrong types, nesting at and past the limit.
HOSTILE_VALUES: tuple[str, ...] = (
    "1" + "0" * 30,
    "-" + "9" * 30,
    "9223372036854775808",
    "9" * 5000,
    "1e308",
    "1e999",
    "-1",
    "0",
    "0.0000001",
    "NaN",
    "Infinity",
    '"é€😀"',
    '"\\u0000"',
    '"a\\u0000b"',
    '"\\ud800"',
    '""',
    '"   "',
    json.dumps("x" * 10_000),
    json.dumps("9" * 5000),
    "[]",
    "{}",
    "null",
    "true",
    "[" * 60 + "]" * 60,
    "[" * 200 + "]" * 200,
)

#: Values put in path parameters and query strings (percent-encoded).
HOSTILE_STRINGS: tuple[str, ...] = (
    "é",
    "\x00",
    "a.é",
    "x" * 300,
    "9" * 5000,
    "-1",
    "NaN",
    "..",
    "%zz",
)

#: Authorization headers (raw bytes): non-ASCII, invalid UTF-8, NUL, huge.
HOSTILE_AUTHORIZATIONS: tuple[bytes, ...] = (
    b"Bearer \xff\xfe",
    b"Bearer flk_\xc3\xa9",
    b"Bearer fls_\xc3\xa9\xff",
    b"Bearer flk_" + b"a" * 6000,
    b"Bearer ",
    b"Basic abc",
    b"\xc3\xa9",
)

_MANIFEST = b'{"version": 1, "runtime": {"kind": "process"}, "entrypoint": ["python", "main.py"]}'

#: Project pushes: a member name past the file system's limit, manifests nested past the limit.
HOSTILE_TARBALLS: tuple[dict[str, bytes], ...] = (
    {"computalot.project.json": _MANIFEST, "main.py": b"", "n" * 300: b"x"},
    {"computalot.project.json": _MANIFEST, "main.py": b"", "/".join(["d" * 200] * 30): b"x"},
    {"computalot.project.json": b"[" * 65536, "main.py": b""},
    {"computalot.project.json": b'{"a":' * 20000, "main.py": b""},
    {"computalot.project.json": b"\xff\xfe", "main.py": b""},
)

#: x402 PAYMENT-SIGNATURE headers: deep JSON, JSON of the wrong shape, not base64, not ASCII.
HOSTILE_PAYMENT_SIGNATURES: tuple[bytes, ...] = (
    base64.b64encode(b"[" * 6000),
    base64.b64encode(b'{"a":' * 1200),
    base64.b64encode(b'{"x402Version": 2, "payload": ' + b"[" * 100 + b"]" * 100 + b"}"),
    base64.b64encode(b'{"x402Version": 2, "payload": {"authorization": {"value": "' + b"9" * 5000 + b'"}}}'),
    base64.b64encode(b"NaN"),
    b"%%%",
    "é".encode(),
)

#: Range headers of artifact downloads.
HOSTILE_RANGES: tuple[str, ...] = (
    "bytes=" + "9" * 5000 + "-",
    "bytes=0-" + "9" * 5000,
    "bytes=-" + "9" * 5000,
    "bytes=" + "0" * 5000 + "1-2",
    "bytes=5-1",
    "bytes=-0",
    "bytes=0-0,1-1",
    "pages=1-2",
)

_WALLET = "0x" + "ab" * 20

#: A valid body per route, so that each hostile field value reaches the code past the other fields' checks.
BASE_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/auth/wallet/challenge"): {"wallet_address": _WALLET, "chain": "eip155:8453"},
    ("POST", "/api/v1/auth/wallet/verify"): {"challenge_id": "chl_x", "wallet_address": _WALLET, "signature": "0x"},
    ("POST", "/api/v1/feedback"): {"type": "bug", "title": "t", "description": "d"},
    ("POST", "/api/v1/projects"): {"name": "np", "remote_dir": "/tmp/np", "description": "d"},
    ("PUT", "/api/v1/projects/{name}"): {"remote_dir": "/tmp/p", "description": "d"},
    ("POST", "/api/v1/jobs"): {
        "project": "proj",
        "command": "echo",
        "payload": {"a": 1},
        "timeout_s": 10,
        "max_retries": 0,
        "priority": 1,
        "tags": ["t"],
        "fan_out": {"items": [1, 2]},
        "callback_url": "https://example.com/cb",
        "depends_on": [],
    },
    ("POST", "/api/v1/jobs/batch"): {"jobs": [{"project": "proj", "command": "echo"}]},
    ("POST", "/api/v1/account/quotes/topup"): {"amount_usd": 10},
    ("POST", "/api/v1/artifacts/direct"): {"sha256": "a" * 64, "size": 3, "filename": "f.txt"},
    ("POST", "/api/v1/artifacts/multipart"): {"filename": "f.bin", "size": 10, "part_size": 5},
    ("POST", "/api/v1/artifacts/multipart/complete"): {"upload_id": "upl_x", "sha256": "a" * 64},
    ("POST", "/api/v1/recipes/{name}/jobs"): {"payload": {"operation": "eval"}, "timeout_s": 10},
    ("POST", "/api/v1/admin/accounts"): {"name": "n", "role": "member", "credit_usd": 1},
    ("POST", "/api/v1/admin/accounts/{account_id}/keys"): {"label": "l"},
    ("POST", "/api/v1/admin/accounts/{account_id}/credit"): {"amount_usd": 1, "reason": "r"},
    ("POST", "/api/v1/admin/accounts/{account_id}/debit"): {"amount_usd": 1, "reason": "r"},
    ("POST", "/api/v1/admin/wallets"): {"wallet_address": _WALLET, "role": "member"},
    ("POST", "/api/v1/agent/claim"): {"task_id": "tsk_x", "attempt": 1, "agent_id": "a"},
}

#: Query parameters the list routes read.
QUERY_NAMES = ("limit", "offset", "before", "after", "status", "prefix", "type", "ids", "project", "tag", "filename")


@pytest.fixture
async def api(make_api: ApiFactory) -> Api:
    """A controller that takes x402 top-ups (the local development facilitator), so a quote can be made and paid."""
    return await make_api(x402_facilitator=LOCAL_DEV_FACILITATOR)


@dataclass(frozen=True)
class Probe:
    """One hostile request."""

    method: str
    target: str
    body: bytes = b""
    headers: tuple[tuple[bytes, bytes], ...] = ()
    chunked: bool = False

    def describe(self) -> str:
        return f"{self.method} {self.target[:120]} body={self.body[:60]!r} headers={[h[:60] for _, h in self.headers]}"


def tarball(files: dict[str, bytes]) -> bytes:
    """A gzip tar of `files` (path -> content)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, content in files.items():
            info = tarfile.TarInfo(path)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


#: The agents' routes, served but not in the user-facing endpoint table.
AGENT_ROUTES: tuple[tuple[str, str], ...] = (
    ("GET", "/api/v1/agent/config"),
    ("POST", "/api/v1/agent/claim"),
    ("GET", "/api/v1/agent/revisions/{digest}"),
    ("GET", "/api/v1/agent/artifacts/{artifact_id}"),
    ("POST", "/api/v1/agent/artifacts"),
)


def routes() -> list[tuple[str, str]]:
    """(method, path) of every documented route and the agents' routes, deletions last (they remove the objects the
    others act on)."""
    documented = [(method, path) for method, path, _, _ in ENDPOINTS]
    return sorted([*documented, *AGENT_ROUTES], key=lambda route: route[0] == "DELETE")


def fill(path: str, values: dict[str, str]) -> str:
    """`path` with each `{param}` replaced by its (percent-encoded) value."""
    for name, value in values.items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return path


def field_bodies(base: dict[str, Any]) -> Iterator[bytes]:
    """The base body with one field at a time replaced by each hostile value (as raw JSON text)."""
    for name in base:
        for value in HOSTILE_VALUES:
            rest = ",".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in base.items() if k != name)
            yield ("{" + rest + ("," if rest else "") + f"{json.dumps(name)}:{value}" + "}").encode()
        yield json.dumps({**base, "unknown_é": 1}).encode()


def probes(valid: dict[str, str]) -> Iterator[Probe]:
    """Every hostile request: odd headers first, then route by route (deletions last)."""
    for value in HOSTILE_RANGES:
        yield Probe("GET", fill("/api/v1/artifacts/{artifact_id}", valid), headers=((b"Range", value.encode()),))
    yield Probe("POST", "/api/v1/artifacts", b"x", headers=((b"X-Artifact-Filename", b"\xff\x00"),))
    yield Probe("POST", "/api/v1/artifacts", b"x", headers=((b"X-Artifact-Filename", b"%FF%00"),))
    yield Probe("POST", "/api/v1/artifacts", b"x", headers=((b"X-Artifact-Sha256", "é".encode()),))
    yield Probe("POST", "/api/v1/jobs", b"{}", headers=((b"Idempotency-Key", b"\xff" * 300),))
    yield Probe("PUT", "/api/v1/artifacts/direct/" + quote("eyJh.é", safe=""), b"abc")
    yield Probe("GET", "/api/v1/jobs/x/stream", headers=((b"Last-Event-ID", b"9" * 5000),))
    pay = fill("/api/v1/account/quotes/{quote_id}/pay/x402", valid)
    for signature in HOSTILE_PAYMENT_SIGNATURES:
        yield Probe("POST", pay, headers=((b"PAYMENT-SIGNATURE", signature),))
    push = fill("/api/v1/projects/{name}/push", valid)
    for files in HOSTILE_TARBALLS:
        yield Probe("POST", push, tarball(files))
    for method, path in routes():
        target = fill(path, valid)
        for auth in HOSTILE_AUTHORIZATIONS:
            yield Probe(method, target, headers=((b"Authorization", auth),))
        for value in HOSTILE_STRINGS:
            names = [p.strip("{}") for p in path.split("/") if p.startswith("{")]
            if names:
                yield Probe(method, fill(path, {**valid, **dict.fromkeys(names, value)}))
            yield Probe(method, target + "?" + "&".join(f"{q}={quote(value, safe='')}" for q in QUERY_NAMES))
        if method in ("POST", "PUT"):
            for body in HOSTILE_BODIES:
                yield Probe(method, target, body)
                yield Probe(method, target, body, chunked=True)
            for body in field_bodies(BASE_BODIES.get((method, path), {"x": 1})):
                yield Probe(method, target, body)


async def send(api: Api, probe: Probe, token: str) -> int:
    """The status of `probe`, sent on its own connection with `token` unless it carries an Authorization."""
    server = api.client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    headers = dict(probe.headers)
    headers.setdefault(b"Authorization", f"Bearer {token}".encode())
    head = [f"{probe.method} {probe.target} HTTP/1.1".encode(), b"Host: test", b"Connection: close"]
    head += [name + b": " + value for name, value in headers.items()]
    if probe.chunked:
        head.append(b"Transfer-Encoding: chunked")
        body = (b"%x\r\n%s\r\n" % (len(probe.body), probe.body) if probe.body else b"") + b"0\r\n\r\n"
    else:
        head.append(b"Content-Length: %d" % len(probe.body))
        body = probe.body
    writer.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    return int(status_line.split()[1])


def row_counts() -> dict[str, int]:
    """Rows per table, in one query."""
    query = " UNION ALL ".join(f"SELECT '{m._meta.table_name}', COUNT(*) FROM \"{m._meta.table_name}\"" for m in MODELS)
    database: pw.Database = MODELS[0]._meta.database
    return dict(database.execute_sql(query).fetchall())


async def world(api: Api) -> dict[str, str]:
    """Valid path values for each route: a project, an artifact, a job id, the admin's target account."""
    member = await api.token("member", credit_micro=10_000_000, name="member")
    admin = await api.token("admin", name="admin")
    status, project, _ = await api.call("POST", "/api/v1/projects", member, json={"name": "proj"})
    assert status == 201, project
    status, artifact, _ = await api.call("POST", "/api/v1/artifacts", member, data=b"hello")
    assert status == 201, artifact
    status, account, _ = await api.call("GET", "/api/v1/account", member)
    status, topup, _ = await api.call("POST", "/api/v1/account/quotes/topup", member, json={"amount_usd": 10})
    assert status == 402, topup
    status, agent, _ = await api.call("POST", "/api/v1/admin/agents", admin, json={"name": "agent"})
    assert status == 201, agent
    return {
        "member": member,
        "admin": admin,
        "agent": agent["api_key"],
        "name": "proj",
        "artifact_id": artifact["artifact_id"] if "artifact_id" in artifact else artifact["id"],
        "account_id": account["id"] if "id" in account else account["account_id"],
        "job_id": "job_missing",
        "quote_id": topup["quote"]["id"],
        "key_id": "key_missing",
        "upload_id": "upl_missing",
        "number": "1",
        "token": "e30.abc",
        "filename": "computalot-0.0.0-py3-none-any.whl",
        "wallet_address": _WALLET,
        "digest": "sha256:" + "0" * 64,
    }


@pytest.mark.parametrize("role", ["member", "admin", "agent"])
async def test_no_hostile_value_on_any_route_answers_5xx_or_changes_state_when_refused(api: Api, role: str) -> None:
    # Given a controller with a project, an artifact and an account to act on, and a token of `role`
    valid = await world(api)
    token = valid[role]
    server_errors: list[str] = []
    changed: list[str] = []
    # When every hostile probe is sent
    for probe in probes(valid):
        before = await api.app[STORE].read(row_counts)
        status = await send(api, probe, token)
        if status >= 500 and status != 503:  # 503 not_ready: a loop this test app does not run (hub, live feed)
            server_errors.append(f"{status} {probe.describe()}")
        if 400 <= status < 500 and await api.app[STORE].read(row_counts) != before:
            changed.append(f"{status} {probe.describe()}")
    # Then none answered a server error, no refused request changed a row, and the server still answers
    assert server_errors == [], "\n".join(server_errors)
    assert changed == []
    status, body, _ = await api.call("GET", "/health")
    assert status == 200, body
    status, body, _ = await api.call("GET", "/api/v1/projects", valid["member"])
    assert status == 200, body


#: Every route that reads a JSON body, with the role that may call it.
JSON_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("POST", "/api/v1/auth/wallet/challenge", "member"),
    ("POST", "/api/v1/auth/wallet/verify", "member"),
    ("POST", "/api/v1/feedback", "member"),
    ("POST", "/api/v1/projects", "member"),
    ("PUT", "/api/v1/projects/{name}", "member"),
    ("POST", "/api/v1/jobs", "member"),
    ("POST", "/api/v1/jobs/batch", "member"),
    ("POST", "/api/v1/account/quotes/topup", "member"),
    ("POST", "/api/v1/artifacts/direct", "member"),
    ("POST", "/api/v1/artifacts/multipart", "member"),
    ("POST", "/api/v1/artifacts/multipart/complete", "member"),
    ("POST", "/api/v1/recipes/packing/jobs", "member"),
    ("POST", "/api/v1/admin/accounts", "admin"),
    ("POST", "/api/v1/admin/accounts/{account_id}/keys", "admin"),
    ("POST", "/api/v1/admin/accounts/{account_id}/credit", "admin"),
    ("POST", "/api/v1/admin/accounts/{account_id}/debit", "admin"),
    ("POST", "/api/v1/admin/wallets", "admin"),
)


@pytest.mark.parametrize("deep", [b"[" * 16000, b'{"a":' * 3000, b'{"payload": ' + b"[" * 100 + b"]" * 100 + b"}"])
async def test_deep_json_on_every_json_route_is_a_422_too_deep_and_the_server_lives(api: Api, deep: bytes) -> None:
    # Given a controller, and nesting past the limit within the smallest body limit (16 KiB); 64 KiB of it once
    # overflowed the C stack and killed the process
    valid = await world(api)
    for method, path, role in JSON_ROUTES:
        # When it is the body of each JSON route
        status, body, _ = await api.call(method, fill(path, valid), valid[role], data=deep)
        # Then it is refused as too deep, naming the limit
        assert status == 422, (path, body)
        assert body["error"]["code"] == "too_deep", (path, body)
        assert body["error"]["details"]["limit"] == MAX_JSON_DEPTH
    # And the server still answers
    status, _, _ = await api.call("GET", "/health")
    assert status == 200


@pytest.mark.parametrize("header", [b"Bearer \xff\xfe", b"Bearer flk_\xc3\xa9", b"Bearer fls_\xc3\xa9\xff"])
async def test_a_bearer_token_with_non_ascii_bytes_is_a_401(api: Api, header: bytes) -> None:
    # Given a token with bytes no issued token has, When it is sent, Then it is unauthorized (it was a 500)
    status = await send(api, Probe("GET", "/api/v1/account", headers=((b"Authorization", header),)), "")
    assert status == 401


async def test_a_direct_upload_url_with_a_non_ascii_mac_is_a_403(api: Api) -> None:
    # Given a real direct-upload URL whose MAC is replaced by non-ASCII text
    valid = await world(api)
    status, body, _ = await api.call(
        "POST", "/api/v1/artifacts/direct", valid["member"], json={"sha256": "a" * 64, "size": 3, "filename": "f"}
    )
    assert status == 201, body
    token = body["upload_url"].rsplit("/", 1)[1].partition(".")[0] + ".é"
    # When it is used, Then the URL is refused as not valid (it was a 500)
    status, body, _ = await api.call("PUT", "/api/v1/artifacts/direct/" + quote(token), data=b"abc")
    assert status == 403, body
    assert body["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("header", "expected"), [("bytes=" + "9" * 5000 + "-", 416), ("bytes=0-" + "9" * 5000, 206)])
async def test_a_range_of_5000_digits_is_a_416_or_the_whole_tail(api: Api, header: str, expected: int) -> None:
    # Given an artifact, When it is downloaded with a Range position of 5,000 digits
    valid = await world(api)
    path = fill("/api/v1/artifacts/{artifact_id}", valid)
    status, body, _ = await api.call("GET", path, valid["member"], headers={"Range": header})
    # Then a start past the end is unsatisfiable and an end past it is clamped (it was a 500)
    assert status == expected, body


@pytest.mark.parametrize(
    ("manifest", "name", "code"),
    [
        (_MANIFEST, "n" * 300, "invalid_tarball"),
        (b"[" * 65536, "main.py", "too_deep"),
        (b'{"version": 1, "x": ' + b"[" * 100 + b"]" * 100 + b"}", "main.py", "too_deep"),
    ],
)
async def test_a_push_with_a_300_character_name_or_a_deep_manifest_is_a_422(
    api: Api, manifest: bytes, name: str, code: str
) -> None:
    # Given a project, and a tarball with a member name no file system takes, or a manifest nested past the limit
    valid = await world(api)
    data = tarball({"computalot.project.json": manifest, "main.py": b"", name: b"x"})
    # When it is pushed, Then it is refused with a stable code (the long name was a 500) and nothing is published
    status, body, _ = await api.call("POST", "/api/v1/projects/proj/push", valid["member"], data=data)
    assert status == 422, body
    assert body["error"]["code"] == code
    status, project, _ = await api.call("GET", "/api/v1/projects/proj", valid["member"])
    assert project["active_revision"] is None


@pytest.mark.parametrize("amount", ["1" + "0" * 30, "9223372036854775808", "1e308", '"1e999999"'])
async def test_a_huge_admin_credit_is_a_422_naming_the_field(api: Api, amount: str) -> None:
    # Given an admin and an account, When it is credited more than any 64-bit column holds
    valid = await world(api)
    path = fill("/api/v1/admin/accounts/{account_id}/credit", valid)
    body = f'{{"amount_usd": {amount}, "reason": "r"}}'.encode()
    status, answer, _ = await api.call("POST", path, valid["admin"], data=body)
    # Then the amount is refused by name (it was a 500) and the balance is unchanged
    assert status == 422, answer
    assert answer["error"]["details"]["fields"][0]["field"] == "amount_usd"
    status, balance, _ = await api.call("GET", "/api/v1/account/balance", valid["member"])
    assert balance["ledger_balance_usd"] == 10


@pytest.mark.parametrize("body", ["[]", "null", '"claim"', "123"])
async def test_a_claim_whose_body_is_not_an_object_is_a_422(api: Api, body: str) -> None:
    # Given an agent's key, When it claims with JSON that is not an object
    admin = await api.token("admin")
    status, agent, _ = await api.call("POST", "/api/v1/admin/agents", admin, json={"name": "agent"})
    assert status == 201, agent
    status, answer, _ = await api.call("POST", "/api/v1/agent/claim", agent["api_key"], data=body.encode())
    # Then the body is refused by name (it was a 500)
    assert status == 422, answer
    assert answer["error"]["details"]["fields"][0]["field"] == "body"
