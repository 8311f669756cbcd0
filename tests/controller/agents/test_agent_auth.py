"""Agent keys: the agent routes only, and there only what the attempts their agent holds need."""

from __future__ import annotations

import io
import json
import tarfile
import time
from dataclasses import dataclass

import pytest

from broker.messages import AgentHeartbeat, Capabilities
from controller.accounts.models import Account
from controller.agents.roster import ROSTER
from controller.artifacts.models import Artifact
from controller.billing import accounts
from controller.core.web import SETTINGS
from controller.jobs.models import Task
from controller.projects.publish import revision_path
from tests.controller.api_support import Api

AGENT_ROUTES = [
    ("GET", "/api/v1/agent/config"),
    ("POST", "/api/v1/agent/claim"),
    ("GET", "/api/v1/agent/revisions/" + "0" * 64),
    ("GET", "/api/v1/agent/artifacts/art_x"),
    ("POST", "/api/v1/agent/artifacts?job_id=job_x&task_id=t"),
]


def project_tarball() -> bytes:
    """A project whose manifest runs `true` as a process."""
    manifest = json.dumps({"version": 1, "runtime": {"kind": "process"}, "entrypoint": {"command": ["true"]}})
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("computalot.project.json")
        info.size = len(manifest)
        tar.addfile(info, io.BytesIO(manifest.encode()))
    return buffer.getvalue()


def project_tarball_of(api: Api, digest: str) -> bytes:
    """The stored tarball of a revision."""
    return revision_path(api.app[SETTINGS].revisions_dir, digest).read_bytes()


@dataclass
class Held:
    """A member's one-task project job whose payload names `input_id`, claimed by agent A; agent B holds nothing."""

    member: str
    agent_a: str
    agent_b: str
    a_id: str
    job_id: str
    task_id: str
    attempt: int
    digest: str
    input_id: str
    unnamed_id: str


async def agent_key(api: Api, name: str) -> tuple[str, str]:
    """(key, agent_id) of a new agent made through the admin API."""
    status, body, _ = await api.call("POST", "/api/v1/admin/agents", await api.token("admin"), json={"name": name})
    assert status == 201, body
    return body["api_key"], body["agent_id"]


async def upload(api: Api, token: str, data: bytes) -> str:
    status, body, _ = await api.call("POST", "/api/v1/artifacts", token, data=data)
    assert status == 201, body
    return body["id"]


@pytest.fixture
async def held(api: Api) -> Held:
    beat = AgentHeartbeat(agent_id="any", capabilities=Capabilities(cpu=8, memory_mb=32_000))
    api.app[ROSTER].update(beat, now=time.monotonic())
    member = await api.token(credit_micro=100_000_000)
    assert (await api.call("POST", "/api/v1/projects", member, json={"name": "p"}))[0] == 201
    status, pushed, _ = await api.call("POST", "/api/v1/projects/p/push", member, data=project_tarball())
    assert status == 201, pushed
    input_id, unnamed_id = await upload(api, member, b"input bytes"), await upload(api, member, b"not an input")
    payload = {"_artifacts": {"download": [{"ref": input_id, "path": "in.txt"}]}}
    status, job, _ = await api.call("POST", "/api/v1/jobs", member, json={"project": "p", "payload": payload})
    assert status == 201, job
    task = Task.get(Task.job == job["id"])
    (agent_a, a_id), (agent_b, _) = await agent_key(api, "a"), await agent_key(api, "b")
    claim = {"task_id": task.id, "attempt": task.attempt}
    status, claimed, _ = await api.call("POST", "/api/v1/agent/claim", agent_a, json=claim)
    assert (status, claimed["run"]) == (200, True), claimed
    digest = job["revision"].removeprefix("sha256:")
    return Held(member, agent_a, agent_b, a_id, job["id"], task.id, task.attempt, digest, input_id, unnamed_id)


@pytest.mark.parametrize("role", ["admin", "member", "viewer"])
@pytest.mark.parametrize(("method", "path"), AGENT_ROUTES)
async def test_admin_member_and_viewer_keys_are_refused_on_every_agent_route(
    api: Api, role: str, method: str, path: str
) -> None:
    # Given a key of a person's account, an admin's included
    token = await api.token(role)
    # When it calls an agent route
    status, body, _ = await api.call(method, path, token, json={})
    # Then the route refuses it before doing anything
    assert (status, body["error"]["code"]) == (403, "forbidden"), body


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/admin/accounts"),
        ("POST", "/api/v1/admin/agents"),
        ("GET", "/api/v1/jobs"),
        ("POST", "/api/v1/jobs"),
        ("GET", "/api/v1/account"),
        ("GET", "/api/v1/account/balance"),
        ("GET", "/api/v1/account/ledger"),
        ("GET", "/api/v1/projects"),
        ("GET", "/api/v1/artifacts"),
        ("POST", "/api/v1/artifacts"),
        ("GET", "/api/v1/recipes"),
    ],
)
async def test_an_agent_key_is_refused_on_every_route_but_the_agent_routes(api: Api, method: str, path: str) -> None:
    # Given an agent's key
    key, _ = await agent_key(api, "a")
    # When it calls a route of people's accounts or of the admin
    status, body, _ = await api.call(method, path, key, json={"name": "x"})
    # Then it is refused
    assert (status, body["error"]["code"]) == (403, "forbidden"), body


async def test_an_agent_key_cannot_credit_an_account_and_nothing_changes(api: Api) -> None:
    # Given a member's account with $1 and an agent's key
    member = await api.token(credit_micro=1_000_000)
    account_id = Account.get(Account.role == "member").id
    key, _ = await agent_key(api, "a")
    # When the agent key asks the admin API to credit the account
    path = f"/api/v1/admin/accounts/{account_id}/credit"
    status, _, _ = await api.call("POST", path, key, json={"amount_usd": "100", "reason": "x"})
    # Then it is refused and the balance is what it was
    assert status == 403
    assert accounts.balance(account_id).ledger_micro == 1_000_000
    assert member


async def test_an_agent_claims_for_itself_only(api: Api, held: Held) -> None:
    # Given a task agent A claimed
    # When agent B claims the same attempt naming A's agent_id
    claim = {"task_id": held.task_id, "attempt": held.attempt, "agent_id": held.a_id}
    status, body, _ = await api.call("POST", "/api/v1/agent/claim", held.agent_b, json=claim)
    # Then it is refused and the task stays A's
    assert (status, body["error"]["code"]) == (403, "forbidden"), body
    assert Task.get_by_id(held.task_id).agent_id == held.a_id


async def test_a_claim_records_the_agent_id_of_the_key(api: Api, held: Held) -> None:
    # Given agent A's claim, which named no agent_id
    # Then the task holds A's id: the key's account id, as /agent/config would tell A
    assert Task.get_by_id(held.task_id).agent_id == held.a_id
    assert held.a_id.startswith("agt_")


async def test_only_the_agent_holding_an_attempt_fetches_its_revision(api: Api, held: Held) -> None:
    # Given a task held by agent A
    path = f"/api/v1/agent/revisions/{held.digest}"
    # When agent B, then agent A, fetch the job's revision
    stranger = await api.client.get(path, headers=api.headers(held.agent_b))
    holder = await api.client.get(path, headers=api.headers(held.agent_a))
    # Then B is told it does not exist, and A gets the pushed tarball
    assert (stranger.status, holder.status) == (404, 200)
    assert await holder.read() == project_tarball_of(api, held.digest)


async def test_only_the_agent_holding_an_attempt_fetches_the_inputs_its_payload_names(api: Api, held: Held) -> None:
    # Given a task held by agent A whose payload names one of the member's two artifacts
    # When agent B fetches the input, and A fetches the input and the artifact the payload does not name
    stranger, _, _ = await api.call("GET", f"/api/v1/agent/artifacts/{held.input_id}", held.agent_b)
    stranger_head, _, _ = await api.call("HEAD", f"/api/v1/agent/artifacts/{held.input_id}", held.agent_b)
    holder, body, _ = await api.call("GET", f"/api/v1/agent/artifacts/{held.input_id}", held.agent_a)
    unnamed, _, _ = await api.call("GET", f"/api/v1/agent/artifacts/{held.unnamed_id}", held.agent_a)
    # Then only A's fetch of the named input succeeds
    assert (stranger, stranger_head, holder, unnamed) == (404, 404, 200, 404)
    assert body == "input bytes"


async def test_another_agent_cannot_upload_outputs_for_an_attempt_it_does_not_hold(api: Api, held: Held) -> None:
    # Given a task held by agent A
    before = Artifact.select().count()
    query = f"job_id={held.job_id}&task_id={held.task_id}&filename=forged.txt"
    # When agent B uploads an output for it, and A uploads one naming a stale attempt
    stranger, _, _ = await api.call("POST", f"/api/v1/agent/artifacts?{query}", held.agent_b, data=b"forged")
    stale_query = f"{query}&attempt={held.attempt + 1}"
    stale, _, _ = await api.call("POST", f"/api/v1/agent/artifacts?{stale_query}", held.agent_a, data=b"forged")
    # Then both are refused and nothing is stored
    assert (stranger, stale) == (403, 403)
    assert Artifact.select().count() == before
    # And A's upload for the attempt it holds is stored for the member's account
    own_query = f"{query}&attempt={held.attempt}"
    status, body, _ = await api.call("POST", f"/api/v1/agent/artifacts?{own_query}", held.agent_a, data=b"ok")
    assert status == 201, body
    assert Artifact.get_by_id(body["id"]).account_id == Account.get(Account.role == "member").id


async def test_an_agent_reaches_nothing_of_an_attempt_once_it_has_ended(api: Api, held: Held) -> None:
    # Given a task held by agent A, whose job the member then cancels
    status, body, _ = await api.call("PUT", f"/api/v1/jobs/{held.job_id}/cancel", held.member)
    assert status == 200, body
    query = f"job_id={held.job_id}&task_id={held.task_id}"
    # When A fetches the revision and the input, and uploads an output
    answers = [
        (await api.call("GET", f"/api/v1/agent/revisions/{held.digest}", held.agent_a))[0],
        (await api.call("GET", f"/api/v1/agent/artifacts/{held.input_id}", held.agent_a))[0],
        (await api.call("POST", f"/api/v1/agent/artifacts?{query}", held.agent_a, data=b"late"))[0],
    ]
    # Then every call is refused
    assert answers == [404, 404, 403]


async def test_create_account_refuses_the_agent_role_and_names_the_agents_route(api: Api) -> None:
    # Given an admin
    admin = await api.token("admin")
    # When it makes an account with the agent role through create-account
    status, body, _ = await api.call("POST", "/api/v1/admin/accounts", admin, json={"name": "x", "role": "agent"})
    # Then it is refused, pointing at the agents route, and no account was made
    assert status == 422
    assert "/api/v1/admin/agents" in body["error"]["details"]["fields"][0]["message"]
    assert not Account.select().where(Account.name == "x").exists()


async def test_a_wallet_cannot_be_whitelisted_to_sign_in_as_an_agent(api: Api) -> None:
    # Given an agent's account
    _, agent_id = await agent_key(api, "a")
    body = {"wallet_address": "0x" + "ab" * 20, "account_id": agent_id}
    # When an admin whitelists a wallet to sign in to it
    status, answer, _ = await api.call("POST", "/api/v1/admin/wallets", await api.token("admin"), json=body)
    # Then it is refused, naming the account
    assert status == 422
    assert answer["error"]["details"]["fields"][0]["field"] == "account_id"
