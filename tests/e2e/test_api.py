"""The HTTP contract on the embedded platform: auth, isolation, validation, pushes, the error envelope."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from computalot import ComputalotClient, build_tarball

from tests.conftest_platform import Platform, make_project, process_manifest
from tests.e2e.conftest import SCRIPT

#: Every protected route, with a method (ids in the path need not exist: auth comes first).
PROTECTED = [
    ("GET", "/api/v1/jobs"),
    ("POST", "/api/v1/jobs"),
    ("GET", "/api/v1/jobs/job_x"),
    ("GET", "/api/v1/jobs/job_x/tasks"),
    ("GET", "/api/v1/jobs/job_x/output"),
    ("GET", "/api/v1/jobs/job_x/events"),
    ("PUT", "/api/v1/jobs/job_x/cancel"),
    ("GET", "/api/v1/results/job_x"),
    ("GET", "/api/v1/projects"),
    ("POST", "/api/v1/projects"),
    ("GET", "/api/v1/projects/p"),
    ("PUT", "/api/v1/projects/p"),
    ("DELETE", "/api/v1/projects/p"),
    ("POST", "/api/v1/projects/p/push"),
    ("GET", "/api/v1/projects/p/status"),
    ("GET", "/api/v1/recipes"),
    ("GET", "/api/v1/agent/config"),
    ("POST", "/api/v1/agent/claim"),
]


def assert_envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert set(error) == {"code", "message", "recommended_action", "details"}
    assert error["message"]
    return error


@pytest.mark.parametrize("method,path", PROTECTED)
def test_protected_routes_refuse_a_missing_or_wrong_token(embedded: Platform, method: str, path: str):
    with embedded.http(None) as anonymous, embedded.http("flk_not-a-real-key") as wrong:
        assert_envelope(anonymous.request(method, path), 401, "unauthorized")
        assert_envelope(wrong.request(method, path), 401, "unauthorized")


def test_the_quickstart_works_over_plain_http(embedded: Platform, tmp_path: Path):
    # Given the seed's quickstart: create (with remote_dir), push a raw gzip tar, submit, read results
    token = embedded.new_token()
    files = {"computalot.project.json": process_manifest(), "script.py": SCRIPT, "Dockerfile": "FROM python:3.11\n"}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with embedded.http(token) as http:
        created = http.post("/api/v1/projects", json={"name": "my-proj", "remote_dir": "/root/projects/my-proj"})
        assert created.status_code == 201 and created.json()["remote_dir"] == "/root/projects/my-proj"
        pushed = http.post("/api/v1/projects/my-proj/push", content=build_tarball(tmp_path))
        assert pushed.status_code == 201
        body = pushed.json()
        assert (body["revision"], body["files"], body["published"]) == (1, 3, True)
        assert body["tarball_diff"]["added"] == sorted(files)
        job = http.post(
            "/api/v1/jobs",
            json={
                "type": "structured_runner",
                "runner_command": ["python3", "script.py"],
                "payload": {"test": True},
                "project": "my-proj",
                "timeout_s": 120,
            },
        )
        assert job.status_code == 201
        job_id = job.json()["id"]
        status = http.get("/api/v1/projects/my-proj/status").json()
        assert status["can_accept_new_jobs"] is True and status["active_revision"] == 1
        for _ in range(300):
            results = http.get(f"/api/v1/results/{job_id}").json()
            if results["status"] == "completed":
                break
            __import__("time").sleep(0.1)
        assert results["aggregate_result"][0]["echo"] == {"test": True}
        # Pushing identical content publishes nothing new; a change shows in tarball_diff
        again = http.post("/api/v1/projects/my-proj/push", content=build_tarball(tmp_path))
        assert again.status_code == 200 and again.json()["published"] is False and again.json()["revision"] == 1
        (tmp_path / "script.py").write_text(SCRIPT + "\n# v2\n")
        changed = http.post("/api/v1/projects/my-proj/push", content=build_tarball(tmp_path)).json()
        assert (changed["revision"], changed["tarball_diff"]["changed"]) == (2, ["script.py"])


def test_one_account_never_sees_another_accounts_objects(embedded: Platform):
    owner = embedded.client()
    name = make_project(owner, {"computalot.project.json": process_manifest(["python3", "run.py"]), "run.py": SCRIPT})
    job_id = owner.submit_job(project=name, payload={})["id"]
    with embedded.http(embedded.new_token()) as http:
        for path in (
            f"/api/v1/jobs/{job_id}",
            f"/api/v1/jobs/{job_id}/tasks",
            f"/api/v1/results/{job_id}",
            f"/api/v1/jobs/{job_id}/events",
            f"/api/v1/projects/{name}",
            f"/api/v1/projects/{name}/status",
        ):
            assert_envelope(http.get(path), 404, "not_found")
        assert_envelope(http.put(f"/api/v1/jobs/{job_id}/cancel"), 404, "not_found")
        assert_envelope(http.post("/api/v1/jobs", json={"project": name}), 404, "not_found")
        assert http.get("/api/v1/jobs").json()["jobs"] == []


def test_viewers_can_read_but_not_write(embedded: Platform):
    with embedded.http(embedded.new_token("viewer")) as http:
        assert http.get("/api/v1/jobs").status_code == 200
        assert_envelope(http.post("/api/v1/projects", json={"name": "nope"}), 403, "forbidden")


def test_invalid_submissions_name_every_bad_field_and_create_nothing(embedded: Platform):
    token = embedded.new_token()
    with embedded.http(token) as http:
        http.post("/api/v1/projects", json={"name": "mine"})
        http.post("/api/v1/projects/mine/push", content=_tar({"computalot.project.json": process_manifest(["true"])}))
        bad = http.post("/api/v1/jobs", json={"project": "mine", "timeout_s": 0, "colour": "red", "priority": "urgent"})
        error = assert_envelope(bad, 422, "validation_failed")
        assert {f["field"] for f in error["details"]["fields"]} == {"timeout_s", "colour", "priority"}
        mixed = http.post(
            "/api/v1/jobs", json={"project": "mine", "payload": {"m": [1]}, "fan_out": {"by": "m", "items": [{}]}}
        )
        assert_envelope(mixed, 422, "invalid_fan_out")
        assert_envelope(http.post("/api/v1/jobs", content=b"{not json"), 400, "bad_request")
        assert_envelope(http.post("/api/v1/jobs", json={"project": "missing"}), 404, "not_found")
        assert_envelope(
            http.post("/api/v1/jobs", json={"project": "mine", "depends_on": ["job_1"]}), 422, "validation_failed"
        )
        too_big = http.post("/api/v1/jobs", json={"project": "mine", "payload": {"blob": "x" * (1024 * 1024)}})
        assert_envelope(too_big, 413, "payload_too_large")
        assert http.get("/api/v1/jobs").json()["jobs"] == []


def test_a_project_without_code_or_with_an_oci_runtime_cannot_take_jobs(embedded: Platform):
    with embedded.http(embedded.new_token()) as http:
        http.post("/api/v1/projects", json={"name": "empty"})
        assert_envelope(
            http.post("/api/v1/jobs", json={"project": "empty", "runner_command": ["true"]}), 409, "conflict"
        )
        http.post("/api/v1/projects", json={"name": "boxed"})
        manifest = json.dumps(
            {
                "version": 1,
                "runtime": {"kind": "oci", "sandbox": "gvisor"},
                "entrypoint": {"command": ["python3", "x.py"]},
            }
        )
        pushed = http.post(
            "/api/v1/projects/boxed/push",
            content=_tar({"computalot.project.json": manifest, "Dockerfile": "FROM scratch\n"}),
        )
        assert pushed.status_code == 201
        error = assert_envelope(http.post("/api/v1/jobs", json={"project": "boxed"}), 422, "no_capable_workers")
        assert error["details"]["runtime"] == "oci"
        assert "oci" not in error["details"]["available"][0]["runtimes"]


@pytest.mark.parametrize(
    "body,code",
    [
        (b"not a tarball at all", "invalid_tarball"),
        (None, "invalid_tarball"),  # absolute path, built below
        (None, "invalid_manifest"),  # no manifest
    ],
)
def test_bad_pushes_are_refused_and_publish_nothing(embedded: Platform, body: bytes | None, code: str):
    if body is None and code == "invalid_tarball":
        body = _tar({"/etc/evil": "x", "computalot.project.json": process_manifest()})
    elif body is None:
        body = _tar({"run.py": "print(1)"})
    with embedded.http(embedded.new_token()) as http:
        http.post("/api/v1/projects", json={"name": "p"})
        assert_envelope(http.post("/api/v1/projects/p/push", content=body), 422, code)
        assert http.get("/api/v1/projects/p").json()["active_revision"] is None


def test_project_names_are_slugs_and_unique_per_account(embedded: Platform):
    with embedded.http(embedded.new_token()) as http:
        assert_envelope(http.post("/api/v1/projects", json={"name": "Bad Name"}), 422, "validation_failed")
        assert http.post("/api/v1/projects", json={"name": "ok-1"}).status_code == 201
        assert_envelope(http.post("/api/v1/projects", json={"name": "ok-1"}), 409, "conflict")
        assert [p["name"] for p in http.get("/api/v1/projects").json()["projects"]] == ["ok-1"]
        updated = http.put("/api/v1/projects/ok-1", json={"description": "hello"})
        assert updated.json()["description"] == "hello"
        assert http.delete("/api/v1/projects/ok-1").status_code == 200
        assert_envelope(http.get("/api/v1/projects/ok-1"), 404, "not_found")


def test_unknown_routes_answer_the_json_envelope(embedded: Platform):
    with embedded.http(embedded.new_token()) as http:
        assert_envelope(http.get("/api/v1/nope"), 404, "not_found")
        assert_envelope(http.delete("/api/v1/jobs"), 405, "method_not_allowed")
        assert_envelope(http.post("/api/v1/auth/register", json={}), 403, "forbidden")


def test_the_cli_lists_jobs_and_prints_the_served_llms_text(embedded: Platform):
    token = embedded.new_token()
    client = ComputalotClient(embedded.url, token)
    name = make_project(client, {"computalot.project.json": process_manifest(["python3", "run.py"]), "run.py": SCRIPT})
    job_id = client.submit_job(project=name, payload={})["id"]
    client.wait(job_id, timeout_s=60)
    cli = str(Path(sys.executable).parent / "computalot")
    env = {"COMPUTALOT_URL": embedded.url, "COMPUTALOT_TOKEN": token, "PATH": "/usr/bin:/bin"}
    jobs = subprocess.run([cli, "jobs", "--limit", "5"], capture_output=True, text=True, env=env, check=True)
    assert job_id in jobs.stdout
    detail = subprocess.run([cli, "--json", "job", job_id], capture_output=True, text=True, env=env, check=True)
    assert json.loads(detail.stdout)["status"] == "completed"
    docs = subprocess.run([cli, "docs", "--llm"], capture_output=True, text=True, env=env, check=True)
    assert docs.stdout.strip() == client.docs_llm().strip() and "Computalot" in docs.stdout


def _tar(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
