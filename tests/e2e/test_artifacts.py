"""Artifacts end to end on the embedded platform: large streamed uploads on every path, resumable multipart,
verification, isolation between accounts, and task inputs and outputs."""

from __future__ import annotations

import hashlib
import json
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from computalot import ComputalotClient, NotFound, ValidationError

from tests.conftest_platform import Platform, make_project, process_manifest

MIB = 1024 * 1024
#: Size of the large uploads; the controller's memory must not grow with it.
LARGE_BYTES = 300 * MIB
#: Allowed growth of the controller's resident memory during a large upload.
RSS_BUDGET_BYTES = 100 * MIB

#: The task of the end-to-end test: reads its input artifact, writes an output artifact and some log lines.
TASK_SCRIPT = """\
import json, os, pathlib
inputs = pathlib.Path(os.environ["COMPUTALOT_INPUT_DIR"])
text = (inputs / "data" / "words.txt").read_text()
out = pathlib.Path(os.environ["COMPUTALOT_ARTIFACT_DIR"]) / "out" / "upper.txt"
out.parent.mkdir(parents=True)
out.write_text(text.upper())
for i in range(300):
    print(f"log line {i}", flush=True)
json.dump({"words": len(text.split())}, open(os.environ["COMPUTALOT_TASK_RESULT"], "w"))
"""

#: Uploads a file with the SDK in multipart mode, sleeping `delay` seconds after each part.
UPLOADER = """\
import json, logging, sys, time
from computalot import ComputalotClient
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s %(message)s")
url, token, path, delay = sys.argv[1:5]
with ComputalotClient(url, token) as client:
    answer = client.upload_artifact(path, progress=False, method="multipart", part_size=1 << 20,
                                    on_part=lambda number: time.sleep(float(delay)))
print(json.dumps(answer))
"""


def write_random(path: Path, size: int, seed: int = 7) -> str:
    """Write `size` pseudo-random bytes in 1 MiB chunks (never whole in memory); returns their sha256."""
    rng, digest = random.Random(seed), hashlib.sha256()
    with path.open("wb") as out:
        for start in range(0, size, MIB):
            chunk = rng.randbytes(min(MIB, size - start))
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@contextmanager
def peak_rss(pid: int) -> Iterator[dict[str, int]]:
    """Samples the resident memory of `pid` every 20 ms; yields {baseline, peak}."""
    seen = {"baseline": rss_bytes(pid), "peak": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            seen["peak"] = max(seen["peak"], rss_bytes(pid))
            stop.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield seen
    finally:
        stop.set()
        sampler.join()


def stored_files(embedded: Platform, prefix: str) -> list[Path]:
    root = embedded.workdir / "artifacts" / prefix
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture(scope="module")
def large_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("large") / "large.bin"
    return path, write_random(path, LARGE_BYTES)


@pytest.mark.parametrize("method", ["raw", "direct", "multipart"])
def test_a_300_mb_upload_streams_through_the_controller_without_growing_its_memory(
    embedded: Platform, large_file: tuple[Path, str], method: str
) -> None:
    # Given a 300 MB file and a fresh account
    path, sha256 = large_file
    server = embedded.processes[0].pid

    # When it is uploaded through one path while the controller's memory is sampled
    with embedded.client() as client, peak_rss(server) as rss:
        artifact = client.upload_artifact(path, progress=False, method=method)
        again = client.get_artifact(artifact["id"])
    growth = rss["peak"] - rss["baseline"]
    print(f"{method}: controller RSS {rss['baseline'] / MIB:.0f} MiB -> peak {rss['peak'] / MIB:.0f} MiB")

    # Then the artifact holds exactly the bytes, and the controller grew far less than the upload
    assert artifact["size"] == LARGE_BYTES and artifact["sha256"] == sha256 and again == artifact
    assert growth < RSS_BUDGET_BYTES, f"controller RSS grew {growth / MIB:.0f} MiB during a {method} upload"


def test_the_same_bytes_are_stored_once_and_answer_the_same_id(client: ComputalotClient, tmp_path: Path) -> None:
    # Given a file uploaded once
    path = tmp_path / "a.txt"
    path.write_text("same bytes")
    first = client.upload_artifact(path, progress=False)

    # When the same bytes are uploaded again, under another name and another path
    second = client.upload_artifact(path, filename="b.txt", progress=False, method="direct")

    # Then the same artifact answers, listed once
    assert second == first
    assert [a["id"] for a in client.list_artifacts()["artifacts"]] == [first["id"]]


def test_downloads_support_range_etag_head_and_resume(embedded: Platform, tmp_path: Path) -> None:
    # Given a 3 MB artifact
    source = tmp_path / "src.bin"
    sha256 = write_random(source, 3 * MIB, seed=1)
    token = embedded.new_token()
    with ComputalotClient(embedded.url, token) as client, embedded.http(token) as http:
        artifact = client.upload_artifact(source, progress=False)

        # When a range, a conditional request and a HEAD are asked for
        ranged = http.get(f"/api/v1/artifacts/{artifact['id']}", headers={"Range": "bytes=10-19"})
        cached = http.get(f"/api/v1/artifacts/{artifact['id']}", headers={"If-None-Match": f'"{sha256}"'})
        head = http.head(f"/api/v1/artifacts/{artifact['id']}")
        meta = http.get(f"/api/v1/artifacts/{artifact['id']}/meta")

        # Then each answers as HTTP says, with the sha256 as ETag
        assert ranged.status_code == 206 and ranged.content == source.read_bytes()[10:20]
        assert ranged.headers["Content-Range"] == f"bytes 10-19/{3 * MIB}"
        assert cached.status_code == 304
        assert head.status_code == 200 and head.content == b"" and head.headers["ETag"] == f'"{sha256}"'
        assert head.headers["Content-Length"] == str(3 * MIB)
        assert meta.json() == artifact

        # When a download was interrupted after 1 MB, and is run again
        dest = tmp_path / "copy.bin"
        (tmp_path / "copy.bin.part").write_bytes(source.read_bytes()[:MIB])
        client.download_artifact(artifact["id"], dest)

    # Then the file is complete and verified, and the partial file is gone
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == sha256
    assert not (tmp_path / "copy.bin.part").exists()


def test_an_interrupted_multipart_upload_resumes_without_resending_received_parts(
    embedded: Platform, tmp_path: Path
) -> None:
    # Given a 16 MiB file, and an SDK upload in 1 MiB parts in another process
    source = tmp_path / "resume.bin"
    sha256 = write_random(source, 16 * MIB, seed=3)
    token = embedded.new_token()
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    argv = [sys.executable, "-c", UPLOADER, embedded.url, token, str(source)]
    first = subprocess.Popen([*argv, "0.25"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    # When it is killed once it has sent a few parts
    states = tmp_path / "cache" / "computalot" / "uploads"
    deadline = time.monotonic() + 30
    state: dict = {}
    while time.monotonic() < deadline and len(state.get("parts", {})) < 3:
        files = list(states.glob("*.json")) if states.exists() else []
        state = json.loads(files[0].read_text()) if files else {}
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=10)
    with embedded.http(token) as http:
        listing = http.get(f"/api/v1/artifacts/multipart/{state['upload_id']}").json()
    received = {p["number"] for p in listing["received"]}
    assert 3 <= len(received) < 16

    # And the same upload is run again
    second = subprocess.run([*argv, "0"], env=env, capture_output=True, text=True, timeout=120)

    # Then it completes with the right bytes, sending only the parts the server lacked
    assert second.returncode == 0, second.stderr
    artifact = json.loads(second.stdout)
    sent = {int(n) for n in re.findall(r"part=(\d+) sent", second.stderr)}
    assert artifact["sha256"] == sha256 and artifact["size"] == 16 * MIB
    assert sent == set(range(1, 17)) - received
    assert f"upload={state['upload_id']} resumed" in second.stderr
    assert list(states.glob("*.json")) == []


def test_a_direct_upload_with_other_bytes_is_rejected_and_leaves_nothing(embedded: Platform) -> None:
    # Given a signed direct-upload URL for some declared bytes
    token = embedded.new_token()
    declared, sent = b"declared bytes", b"different byte"
    with embedded.http(token) as http:
        offer = http.post(
            "/api/v1/artifacts/direct",
            json={"sha256": hashlib.sha256(declared).hexdigest(), "size": len(declared), "filename": "d.bin"},
        ).json()

        # When other bytes of the same size are PUT to it
        response = httpx.put(offer["upload_url"], content=sent)

        # Then the upload is refused, and neither an artifact nor a stored file is left
        assert response.status_code == 422, response.text
        assert {f["field"] for f in response.json()["error"]["details"]["fields"]} == {"sha256"}
        assert http.get("/api/v1/artifacts").json()["artifacts"] == []
    assert stored_files(embedded, "staging") == []
    for digest in (hashlib.sha256(declared).hexdigest(), hashlib.sha256(sent).hexdigest()):
        assert not (embedded.workdir / "artifacts" / "blobs" / digest[:2] / digest).exists()

    # And a longer body, a tampered URL and a wrong multipart checksum are refused too
    assert httpx.put(offer["upload_url"], content=declared + b"!").status_code == 422
    assert httpx.put(offer["upload_url"] + "x", content=declared).status_code == 403
    assert httpx.put(offer["upload_url"], content=declared).status_code == 201


def test_a_multipart_upload_with_a_wrong_checksum_is_discarded(embedded: Platform) -> None:
    # Given a complete two-part upload
    token = embedded.new_token()
    data = random.Random(5).randbytes(MIB + 10)
    with embedded.http(token) as http:
        upload = http.post("/api/v1/artifacts/multipart", json={"filename": "m", "size": len(data), "part_size": MIB})
        upload = upload.json()
        # (parts in reverse order; one re-sent, one first sent with the wrong size)
        assert httpx.put(upload["parts"][1]["url"], content=b"short").status_code == 422
        assert httpx.put(upload["parts"][1]["url"], content=data[MIB:]).status_code == 200
        for _ in range(2):
            assert httpx.put(upload["parts"][0]["url"], content=data[:MIB]).status_code == 200

        # When it is completed with another sha256
        response = http.post(
            "/api/v1/artifacts/multipart/complete", json={"upload_id": upload["upload_id"], "sha256": "0" * 64}
        )

        # Then it is refused and the upload and its parts are gone
        assert response.status_code == 422
        assert http.get(f"/api/v1/artifacts/multipart/{upload['upload_id']}").status_code == 404
        assert http.get("/api/v1/artifacts").json()["artifacts"] == []
    assert stored_files(embedded, f"uploads/{upload['upload_id']}") == []


def test_another_accounts_artifact_is_unknown_everywhere(embedded: Platform, tmp_path: Path) -> None:
    # Given an artifact and a multipart upload of one account
    owner_token, other_token = embedded.new_token(), embedded.new_token()
    with ComputalotClient(embedded.url, owner_token) as owner:
        path = tmp_path / "secret.txt"
        path.write_text("owner's data")
        artifact = owner.upload_artifact(path, progress=False)
        project = make_project(owner, {"computalot.project.json": process_manifest(["true"])})
    with embedded.http(owner_token) as http:
        upload = http.post("/api/v1/artifacts/multipart", json={"filename": "u", "size": 10}).json()
    art, upl = artifact["id"], upload["upload_id"]

    with embedded.http(other_token) as other, ComputalotClient(embedded.url, other_token) as other_client:
        # When another account uses their ids
        answers = [
            other.get(f"/api/v1/artifacts/{art}"),
            other.head(f"/api/v1/artifacts/{art}"),
            other.get(f"/api/v1/artifacts/{art}/meta"),
            other.delete(f"/api/v1/artifacts/{art}"),
            other.get(f"/api/v1/artifacts/multipart/{upl}"),
            other.delete(f"/api/v1/artifacts/multipart/{upl}"),
            other.post("/api/v1/artifacts/multipart/complete", json={"upload_id": upl}),
        ]
        listed = other.get("/api/v1/artifacts").json()["artifacts"]
        other_project = make_project(other_client, {"computalot.project.json": process_manifest(["true"])})
        submitted = other.post(
            "/api/v1/jobs",
            json={"project": other_project, "payload": {"_artifacts": {"download": [{"ref": art, "path": "x"}]}}},
        )
        agent_route = other.get(f"/api/v1/agent/artifacts/{art}")

    # Then every route answers 404, the listing is empty, a payload naming it is refused, agent routes are closed
    assert [r.status_code for r in answers] == [404] * len(answers)
    assert listed == []
    assert submitted.status_code == 422
    assert submitted.json()["error"]["details"]["fields"][0]["field"] == "payload._artifacts.download[0].ref"
    assert agent_route.status_code == 403

    # And the owner still has both, and may use the artifact in a payload
    with embedded.http(owner_token) as http:
        assert http.get(f"/api/v1/artifacts/{art}").text == "owner's data"
        assert http.get(f"/api/v1/artifacts/multipart/{upl}").status_code == 200
        good = {"_artifacts": {"download": [{"ref": art, "path": "in/secret.txt"}]}}
        assert http.post("/api/v1/jobs", json={"project": project, "payload": good}).status_code == 201


def test_the_embedded_agents_key_reaches_no_account_route_and_no_artifact_it_does_not_need(
    embedded: Platform, tmp_path: Path
) -> None:
    # Given the embedded agent's key (beside the admin token, mode 0600) and a member's artifact no task uses
    agent_key = (embedded.workdir / "agent-token").read_text().strip()
    assert agent_key != embedded.admin_token
    assert (embedded.workdir / "agent-token").stat().st_mode & 0o777 == 0o600
    owner_token = embedded.new_token()
    path = tmp_path / "secret.txt"
    path.write_text("owner's data")
    with ComputalotClient(embedded.url, owner_token) as owner:
        art = owner.upload_artifact(path, progress=False)["id"]

    # When the agent's key asks for the artifact, the account routes and the admin routes, and the admin's token
    # asks for an agent route
    with embedded.http(agent_key) as agent, embedded.http(embedded.admin_token) as admin:
        fetched = agent.get(f"/api/v1/agent/artifacts/{art}")
        elsewhere = [agent.get(path) for path in ("/api/v1/jobs", f"/api/v1/artifacts/{art}", "/api/v1/admin/accounts")]
        admin_on_agent_route = admin.get(f"/api/v1/agent/artifacts/{art}")

    # Then the artifact is unknown to the agent (no task of it holds it), and every other call is forbidden
    assert fetched.status_code == 404
    assert [r.status_code for r in elsewhere] == [403, 403, 403]
    assert admin_on_agent_route.status_code == 403


@pytest.mark.parametrize(
    ("download", "field"),
    [
        ([{"ref": "art_missing", "path": "a"}], "payload._artifacts.download[0].ref"),
        ([{"ref": "ART", "path": "../escape"}], "payload._artifacts.download[0].path"),
        ([{"ref": "ART", "path": "/abs"}], "payload._artifacts.download[0].path"),
        ([{"ref": "ART", "path": "a"}, {"ref": "ART", "path": "./a"}], "payload._artifacts.download[1].path"),
        ([{"ref": "ART", "path": "a"}, {"ref": "ART", "path": "a/b"}], "payload._artifacts.download[1].path"),
        ([{"path": "a"}], "payload._artifacts.download[0].ref"),
        ("not a list", "payload._artifacts.download"),
    ],
)
def test_malformed_artifact_downloads_are_refused_at_submit(
    client: ComputalotClient, tmp_path: Path, download: object, field: str
) -> None:
    # Given one artifact of the caller and a pushed project
    path = tmp_path / "f.txt"
    path.write_text("x")
    art = client.upload_artifact(path, progress=False)["id"]
    project = make_project(client, {"computalot.project.json": process_manifest(["true"])})
    download = json.loads(json.dumps(download).replace('"ART"', json.dumps(art)))

    # When a job names a malformed download
    with pytest.raises(ValidationError) as refused:
        client.submit_job(project=project, payload={"_artifacts": {"download": download}})

    # Then the 422 names the bad field
    assert field in {f["field"] for f in refused.value.fields}


def test_a_task_reads_its_input_artifact_and_its_outputs_become_artifacts(
    client: ComputalotClient, tmp_path: Path
) -> None:
    # Given an input artifact and a project whose task reads it from COMPUTALOT_INPUT_DIR
    words = tmp_path / "words.txt"
    words.write_text("alpha beta gamma\n")
    art = client.upload_artifact(words, progress=False)
    project = make_project(
        client, {"computalot.project.json": process_manifest(["python3", "run.py"]), "run.py": TASK_SCRIPT}
    )

    # When a job downloads it to data/words.txt and runs
    payload = {"_artifacts": {"download": [{"ref": art["id"], "path": "data/words.txt"}]}}
    job = client.submit_job(project=project, payload=payload, timeout_s=60)
    results = client.wait(job["id"], timeout_s=60)

    # Then the task read it, and the file it wrote is an artifact of the caller listed in its result
    assert results["status"] == "completed", results
    task = results["tasks"][0]
    assert task["result"] == {"words": 3}
    [output] = task["artifacts"]
    assert output["path"] == "out/upper.txt" and output["size"] == len("ALPHA BETA GAMMA\n")
    client.download_artifact(output["id"], tmp_path / "upper.txt")
    assert (tmp_path / "upper.txt").read_text() == "ALPHA BETA GAMMA\n"
    assert output["sha256"] == client.get_artifact(output["id"])["sha256"]

    # And its whole log (longer than the 10 KB tail) is stored, the results say so, and /tasks shows both
    assert results["output_persisted"] is True
    client.download_artifact(task["output_artifact"], tmp_path / "task.log")
    assert (tmp_path / "task.log").read_text().splitlines() == [f"log line {i}" for i in range(300)]
    tasks = client.get_tasks(job["id"])["tasks"]
    assert tasks[0]["artifacts"] == task["artifacts"] and tasks[0]["output_artifact"] == task["output_artifact"]


def test_a_deleted_artifact_is_gone_for_its_owner(client: ComputalotClient, tmp_path: Path) -> None:
    path = tmp_path / "gone.txt"
    path.write_text("bye")
    art = client.upload_artifact(path, progress=False)["id"]
    assert client.delete_artifact(art) == {"deleted": art}
    with pytest.raises(NotFound):
        client.get_artifact(art)
