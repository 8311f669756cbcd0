"""A hostile tenant on the embedded platform: each way it tries to take over the agent or another tenant fails."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from computalot import ComputalotClient

from tests.conftest_platform import Platform, make_project, process_manifest
from tests.processes import job_processes

#: The hostile task: runs the probes its payload names and reports what each one got.
ATTACK = """\
import json, os, socket, subprocess

payload = json.load(open(os.environ["COMPUTALOT_TASK_PAYLOAD"]))
report = {}

def probe(name, action):
    try:
        report[name] = action()
    except Exception as exc:
        report[name] = "refused: " + type(exc).__name__

def read(path):
    if os.path.isdir(path):
        return sorted(os.listdir(path))
    return open(path, "rb").read(4096).decode(errors="replace")

def overwrite_trees(top):
    rewritten = []
    for parent, _, files in os.walk(top):
        for name in files:
            open(os.path.join(parent, name), "w").write("hijacked")
            rewritten.append(name)
    if not os.path.isdir(top):
        raise FileNotFoundError(top)
    return rewritten

def connect(port):
    socket.create_connection(("127.0.0.1", port), timeout=2).close()
    return "connected"

def corrupt_input(path):
    with open(path, "r+b") as f:
        f.write(b"HIJACKED")
    return "written"

for path in payload.get("read", []):
    probe("read " + path, lambda path=path: read(path))
for path in payload.get("rewrite", []):
    probe("rewrite " + path, lambda path=path: overwrite_trees(path))
for port in payload.get("ports", []):
    probe(f"connect {port}", lambda port=port: connect(port))
if payload.get("input"):
    target = os.path.join(os.environ["COMPUTALOT_INPUT_DIR"], payload["input"])
    probe("write input", lambda: corrupt_input(target))
    probe("chmod input", lambda: os.chmod(target, 0o666) or "changed")
if payload.get("daemon"):
    subprocess.Popen(["/bin/sh", "-c", "(setsid sleep 300 &)"]).wait()
report["env"] = dict(os.environ)
json.dump(report, open(os.environ["COMPUTALOT_TASK_RESULT"], "w"))
"""

#: The victim's task: answers with its own code's constant and its input's text.
VICTIM = """\
import json, os
ANSWER = "the victim's own answer"
text = open(os.path.join(os.environ["COMPUTALOT_INPUT_DIR"], "data.txt")).read()
json.dump({"answer": ANSWER, "input": text}, open(os.environ["COMPUTALOT_TASK_RESULT"], "w"))
"""

INPUT_TEXT = "the victim's input\n"


def attack(client: ComputalotClient, payload: dict[str, Any]) -> dict[str, Any]:
    """Run the hostile task with `payload`; its report."""
    project = make_project(
        client, {"computalot.project.json": process_manifest(["python3", "run.py"]), "run.py": ATTACK}
    )
    job = client.submit_job(project=project, payload=payload, timeout_s=60)
    results = client.wait(job["id"], timeout_s=90)
    assert results["status"] == "completed", results
    return {"job_id": job["id"], **results["tasks"][0]["result"]}


@pytest.fixture
def victim(embedded: Platform, tmp_path: Path) -> tuple[ComputalotClient, str, str]:
    """Another account: its project (run once, so the agent has cached its tree) and its input artifact."""
    client = embedded.client()
    source = tmp_path / "data.txt"
    source.write_text(INPUT_TEXT)
    art = client.upload_artifact(source, progress=False)["id"]
    project = make_project(
        client, {"computalot.project.json": process_manifest(["python3", "run.py"]), "run.py": VICTIM}
    )
    assert victim_answer(client, project, art) == {"answer": "the victim's own answer", "input": INPUT_TEXT}
    return client, project, art


def victim_answer(client: ComputalotClient, project: str, art: str) -> Any:
    payload = {"_artifacts": {"download": [{"ref": art, "path": "data.txt"}]}}
    job = client.submit_job(project=project, payload=payload, timeout_s=60)
    results = client.wait(job["id"], timeout_s=90)
    assert results["status"] == "completed", results
    return results["tasks"][0]["result"]


def test_a_task_cannot_read_the_agents_or_controllers_files(embedded: Platform, client: ComputalotClient) -> None:
    # Given the embedded platform's admin token, database, code store and agent cache
    data = embedded.workdir
    paths = [
        str(data / "admin-token"),
        str(data / "agent-token"),
        str(data / "computalot.db"),
        str(data / "agent"),
        str(data),
        "/root",
        "/proc/1/environ",
    ]
    assert (data / "admin-token").is_file() and (data / "computalot.db").is_file()

    # When a task tries to read each of them
    report = attack(client, {"read": paths})

    # Then every one of the platform's paths is absent from its world, and its pid 1 has no environment
    for path in paths[:-1]:
        assert report[f"read {path}"] == "refused: FileNotFoundError", (path, report[f"read {path}"])
    assert embedded.admin_token not in report["read /proc/1/environ"]
    assert "COMPUTALOT" not in report["read /proc/1/environ"]


def test_a_task_environment_holds_no_token_and_no_broker_url(embedded: Platform, client: ComputalotClient) -> None:
    # When a task reports its environment
    env = attack(client, {})["env"]

    # Then no value is the admin token, the controller's URL or a broker URL, and no agent variable is there
    values = json.dumps(env)
    assert embedded.admin_token not in values and embedded.url not in values
    assert not [name for name in env if "TOKEN" in name or "BROKER" in name or name == "COMPUTALOT_URL"]
    assert env["PATH"] == "/usr/local/bin:/usr/bin:/bin"


def test_a_task_cannot_reach_the_controller_or_the_zeromq_ports(embedded: Platform, client: ComputalotClient) -> None:
    # Given the controller's HTTP port, the ZeroMQ ports agents use (asked with the embedded agent's key) and the
    # one publishing account events
    with embedded.http((embedded.workdir / "agent-token").read_text().strip()) as agent:
        config = agent.get("/api/v1/agent/config").json()
    with embedded.http(embedded.new_token()) as member:
        published = member.get("/api/v1/account/stream-endpoint").json()
    endpoints = [config["events_endpoint"], config["control_endpoint"], published["endpoint"]]
    ports = [urlsplit(embedded.url).port] + [int(endpoint.rsplit(":", 1)[1]) for endpoint in endpoints]

    # When a task connects to each on 127.0.0.1
    report = attack(client, {"ports": ports})

    # Then none connects: the task has a network namespace of its own
    for port in ports:
        assert report[f"connect {port}"] == "refused: ConnectionRefusedError", report


def test_a_task_cannot_rewrite_another_tenants_code_or_inputs(
    embedded: Platform, client: ComputalotClient, victim: tuple[ComputalotClient, str, str], tmp_path: Path
) -> None:
    # Given a victim whose tree and input the agent has cached, and an attacker holding the same input bytes
    victim_client, project, art = victim
    source = tmp_path / "same.txt"
    source.write_text(INPUT_TEXT)
    mine = client.upload_artifact(source, progress=False)["id"]
    data = embedded.workdir

    # When the attacker's task rewrites every cached tree it can find and writes into its (same-content) input
    report = attack(
        client,
        {
            "rewrite": [str(data / "agent" / "revisions"), str(data / "revisions"), str(data / "agent" / "artifacts")],
            "_artifacts": {"download": [{"ref": mine, "path": "data.txt"}]},
            "input": "data.txt",
        },
    )

    # Then none of it was reachable or writable
    assert report[f"rewrite {data / 'agent' / 'revisions'}"] == "refused: FileNotFoundError"
    assert report[f"rewrite {data / 'revisions'}"] == "refused: FileNotFoundError"
    assert report[f"rewrite {data / 'agent' / 'artifacts'}"] == "refused: FileNotFoundError"
    assert report["write input"] == "refused: PermissionError"
    assert report["chmod input"] == "refused: PermissionError"
    # And a victim job run afterwards returns its own answer from its own input
    assert victim_answer(victim_client, project, art) == {"answer": "the victim's own answer", "input": INPUT_TEXT}


def test_a_double_forked_sleeper_does_not_outlive_its_job(client: ComputalotClient) -> None:
    # Given a task that leaves a daemon (fork, setsid, fork) behind and exits
    report = attack(client, {"daemon": True})

    # Then once the job is over no process of it remains on the host
    deadline = time.monotonic() + 10
    while job_processes(report["job_id"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert job_processes(report["job_id"]) == []
