"""The `computalot` CLI through click's CliRunner against the loopback fake controller."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from computalot.cli import cli

from .conftest import FakeController

JOB_ID = "job_0123456789abcdef0123456789ab"
JOB: dict[str, Any] = {
    "job_id": JOB_ID,
    "status": "partial",
    "type": "structured_runner",
    "project": "demo",
    "counts": {"queued": 0, "running": 0, "completed": 2, "failed": 1, "cancelled": 0},
    "total_tasks": 4,
    "created_at": "2025-01-02T03:04:05.678Z",
    "error": "1 of 3 tasks failed: exit code 1",
    "recommended_action": "Read GET /api/v1/jobs/:id/tasks for the failing task's output.",
}
RESULTS: dict[str, Any] = {
    "job_id": "j1",
    "status": "completed",
    "completeness": 1.0,
    "summary": {"total": 2, "completed": 2, "failed": 0, "cancelled": 0, "duration_s": 1.5, "cost_usd": 0.01},
    "aggregate_result": [{"score": 1}, {"score": 2}],
    "tasks": [],
}


def run(controller: FakeController, *args: str, token: str | None = "flk_cli") -> Result:
    """Invoke the CLI with the fake controller's URL and a token taken from the environment."""
    env = {"COMPUTALOT_URL": controller.url, "COMPUTALOT_TOKEN": token}
    return CliRunner(env=env).invoke(cli, list(args), catch_exceptions=False)


def test_jobs_prints_a_table_with_progress(controller: FakeController) -> None:
    # Given one job on the server
    controller.reply("GET", "/api/v1/jobs", {"jobs": [JOB], "next_before": "cursor-1"})

    # When jobs are listed with filters
    result = run(controller, "jobs", "--status", "partial", "--project", "demo", "--tag", "t")

    # Then the table shows the full id, status, type, project, done/total and creation time
    assert result.exit_code == 0, result.output
    row = next(line for line in result.stdout.splitlines() if JOB_ID in line).split()
    assert row == [JOB_ID, "partial", "structured_runner", "demo", "3/4", "2025-01-02", "03:04:05"]
    assert "--before cursor-1" in result.stdout
    request = controller.sent("GET", "/api/v1/jobs")[0]
    assert request.query == {"limit": "5", "status": "partial", "project": "demo", "tag": "t"}
    assert request.headers["authorization"] == "Bearer flk_cli"


def test_json_prints_the_raw_answer(controller: FakeController) -> None:
    # Given one job on the server
    answer = {"jobs": [JOB], "next_before": None}
    controller.reply("GET", "/api/v1/jobs", answer)

    # When jobs are listed with --json and an explicit --url and --token
    result = CliRunner().invoke(cli, ["--url", controller.url, "--token", "flk_flag", "--json", "jobs"])

    # Then stdout is the server's JSON
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == answer
    assert controller.sent("GET", "/api/v1/jobs")[0].headers["authorization"] == "Bearer flk_flag"


def test_job_shows_the_summary_error_and_recommended_action(controller: FakeController) -> None:
    # Given a partial job
    controller.reply("GET", f"/api/v1/jobs/{JOB_ID}", JOB)

    # When it is shown
    result = run(controller, "job", JOB_ID)

    # Then status, tasks, error and what to do are printed
    assert result.exit_code == 0, result.output
    assert "status:" in result.stdout and "partial" in result.stdout
    assert "3/4 done (completed 2, failed 1)" in result.stdout
    assert JOB["error"] in result.stdout and JOB["recommended_action"] in result.stdout


def test_submit_builds_the_job_from_options_and_prints_its_id(controller: FakeController, tmp_path: Path) -> None:
    # Given a payload file and the submit endpoint
    (tmp_path / "payload.json").write_text('{"models": ["a", "b"]}')
    controller.reply("POST", "/api/v1/jobs", {"job_id": "j1", "status": "planning"}, status=201)

    # When a job is submitted with options
    result = run(
        controller, "submit", "--project", "demo", "-c", "python3 run.py --fast", "--payload",
        f"@{tmp_path / 'payload.json'}", "--fan-out", '{"by": "models"}', "--timeout-s", "60", "--max-retries", "2",
        "--tag", "a", "--tag", "b", "--idempotency-key", "k1",
    )  # fmt: skip

    # Then only the id is printed and the body has the wire names
    assert result.exit_code == 0, result.output
    assert result.stdout == "j1\n"
    request = controller.sent("POST", "/api/v1/jobs")[0]
    assert request.json() == {
        "project": "demo",
        "runner_command": ["python3", "run.py", "--fast"],
        "payload": {"models": ["a", "b"]},
        "fan_out": {"by": "models"},
        "timeout_s": 60,
        "max_retries": 2,
        "tags": ["a", "b"],
    }
    assert request.headers["idempotency-key"] == "k1"


def test_submit_from_a_spec_file_lets_options_override_it(controller: FakeController, tmp_path: Path) -> None:
    # Given a spec file
    spec = {"recipe": "packing", "payload": {"operation": "eval"}, "timeout_s": 300}
    (tmp_path / "job.json").write_text(json.dumps(spec))
    controller.reply("POST", "/api/v1/jobs", {"id": "j2"}, status=201)

    # When it is submitted with an overriding option
    result = run(controller, "submit", "--spec", str(tmp_path / "job.json"), "--timeout-s", "30")

    # Then the spec was sent with the override, and the id printed
    assert result.exit_code == 0, result.output
    assert result.stdout == "j2\n"
    assert controller.sent("POST", "/api/v1/jobs")[0].json() == {**spec, "timeout_s": 30}


def test_submit_wait_prints_the_id_then_the_results(controller: FakeController) -> None:
    # Given a job that runs once and then completes
    controller.reply("POST", "/api/v1/jobs", {"job_id": "j1"}, status=201)
    controller.reply("GET", "/api/v1/jobs/j1", {"job_id": "j1", "status": "completed"})
    controller.reply("GET", "/api/v1/results/j1", RESULTS)

    # When it is submitted with --wait
    result = run(controller, "submit", "-p", "demo", "--wait")

    # Then the id, the summary and the aggregate result are printed
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "j1"
    assert lines[1] == "job j1: completed (completeness 1.0)"
    assert "total 2, completed 2, failed 0, cancelled 0; 1.5s; $0.01" in lines[2]
    assert '"score": 2' in result.stdout


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["submit", "-c", "python3 run.py"], "--project is required"),
        (["submit", "-p", "demo", "--payload", "{not json"], "expected JSON"),
        (["submit", "-p", "demo", "--payload", "@/nonexistent/p.json"], "expected JSON"),
        (["submit", "-p", "demo", "--timeout-s", "0"], "--timeout-s"),
        (["submit", "-p", "demo", "-c", "python3 'unclosed"], "No closing quotation"),
        (["submit", "-p", "demo", "-c", "  "], "must name a command"),
        (["bogus-command"], "No such command"),
    ],
)
def test_usage_errors_exit_2_without_calling_the_server(
    controller: FakeController, args: list[str], complaint: str
) -> None:
    # Given bad arguments
    # When the CLI runs
    result = run(controller, *args)

    # Then it exits 2 with click's complaint and sent nothing
    assert result.exit_code == 2
    assert complaint in result.stderr
    assert controller.requests == []


def test_api_errors_print_code_message_fields_and_action_then_exit_1(controller: FakeController) -> None:
    # Given a submit that the server rejects
    error = {
        "code": "validation_failed",
        "message": "timeout_s: must be 1..86400",
        "recommended_action": "Fix the fields listed in details.fields and resend.",
        "details": {"fields": [{"field": "timeout_s", "message": "must be 1..86400"}]},
    }
    controller.reply("POST", "/api/v1/jobs", {"error": error}, status=422)

    # When a job is submitted
    result = run(controller, "submit", "-p", "demo", "--timeout-s", "999999")

    # Then stderr carries the code, message, field and action, and the exit code is 1
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error validation_failed: timeout_s: must be 1..86400",
        "  timeout_s: must be 1..86400",
        "recommended action: Fix the fields listed in details.fields and resend.",
    ]


def test_a_missing_job_is_reported_as_not_found(controller: FakeController) -> None:
    # Given no such job (the fake answers 404 with an envelope)
    # When it is shown
    result = run(controller, "job", "nope")

    # Then the error is reported and the exit code is 1
    assert result.exit_code == 1
    assert result.stderr.startswith("error not_found: ")


def test_wait_gives_up_with_exit_1_past_its_timeout(controller: FakeController) -> None:
    # Given a job that never finishes
    controller.reply("GET", "/api/v1/jobs/j1", {"job_id": "j1", "status": "running"})

    # When it is waited on briefly
    result = run(controller, "wait", "j1", "--timeout-s", "0.1", "--poll-s", "0.01")

    # Then it reports the timeout
    assert result.exit_code == 1
    assert "error timeout: job j1 is still running" in result.stderr


def test_results_and_cancel(controller: FakeController) -> None:
    # Given a finished job's results and the cancel endpoint
    controller.reply(
        "GET", "/api/v1/results/j1", {**RESULTS, "status": "partial", "tasks": [{"index": 1, "error": "boom"}]}
    )
    controller.reply("PUT", "/api/v1/jobs/j2/cancel", {"job_id": "j2", "status": "cancelled"})

    # When results are shown and another job is cancelled
    shown = run(controller, "results", "j1")
    cancelled = run(controller, "cancel", "j2")

    # Then the failed task and the new status are printed
    assert shown.exit_code == 0 and "failed tasks:\n  #1: boom" in shown.stdout
    assert cancelled.exit_code == 0 and cancelled.stdout == "j2: cancelled\n"


def test_push_create_creates_a_missing_project_named_after_the_directory(
    controller: FakeController, tmp_path: Path
) -> None:
    # Given a project directory the server does not know yet
    root = tmp_path / "my-proj"
    root.mkdir()
    (root / "run.py").write_text("print(1)\n")
    controller.reply("POST", "/api/v1/projects", {"name": "my-proj"}, status=201)
    pushed = {"revision": 1, "content_hash": "sha256:abc", "files": 1, "size_bytes": 9, "published": True}
    controller.reply("POST", "/api/v1/projects/my-proj/push", {**pushed, "tarball_diff": {"added": ["run.py"]}})

    # When it is pushed with --create
    result = run(controller, "push", str(root), "--create")

    # Then the project was looked up, created, and pushed raw
    assert result.exit_code == 0, result.output
    assert [(r.method, r.path) for r in controller.requests] == [
        ("GET", "/api/v1/projects/my-proj"),
        ("POST", "/api/v1/projects"),
        ("POST", "/api/v1/projects/my-proj/push"),
    ]
    assert controller.requests[1].json() == {"name": "my-proj"}
    assert controller.requests[2].headers["content-type"] == "application/gzip"
    assert "pushed my-proj revision 1: 1 files, 9 bytes" in result.stdout
    assert "changes: added 1" in result.stdout and "published: yes" in result.stdout


def test_push_to_a_named_project_does_not_create_it(controller: FakeController, tmp_path: Path) -> None:
    # Given a directory and an existing project of another name
    (tmp_path / "run.py").write_text("print(1)\n")
    controller.reply("POST", "/api/v1/projects/other/push", {"revision": 2, "published": False})

    # When it is pushed with --project and no --create
    result = run(controller, "push", str(tmp_path), "--project", "other")

    # Then only the push was sent
    assert result.exit_code == 0, result.output
    assert [(r.method, r.path) for r in controller.requests] == [("POST", "/api/v1/projects/other/push")]
    assert "published: no" in result.stdout


def test_projects_and_recipes_print_tables(controller: FakeController) -> None:
    # Given a project and a recipe
    controller.reply("GET", "/api/v1/projects", {"projects": [{"name": "demo", "active_revision": 3}]})
    controller.reply("GET", "/api/v1/recipes", {"recipes": [{"name": "packing", "operations": ["eval", "eval_batch"]}]})

    # When they are listed
    projects = run(controller, "projects")
    recipes = run(controller, "recipes")

    # Then each row is printed
    assert projects.exit_code == 0 and projects.stdout.splitlines()[1].split() == ["demo", "3"]
    assert recipes.exit_code == 0 and "packing  eval, eval_batch" in recipes.stdout


def test_docs_llm_prints_the_served_text_without_a_token(controller: FakeController) -> None:
    # Given the served llms.txt
    controller.reply("GET", "/llms.txt", text="# Computalot API Reference\n")

    # When docs --llm runs without a token
    result = run(controller, "docs", "--llm", token=None)

    # Then the text is printed as served
    assert result.exit_code == 0, result.output
    assert result.stdout == "# Computalot API Reference\n"
    assert "authorization" not in controller.requests[0].headers


def test_version_and_help() -> None:
    # Given the CLI
    # When --version and --help run
    version = CliRunner().invoke(cli, ["--version"])
    helped = CliRunner().invoke(cli, ["--help"])

    # Then both answer without a server
    assert version.exit_code == 0 and "0.2.0" in version.stdout
    assert helped.exit_code == 0 and "submit" in helped.stdout and "COMPUTALOT_URL" in helped.stdout
