"""Tests of agent.sandbox with real bubblewrap sandboxes and real processes: what a task sees, and what it cannot do."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agent.cli import main
from agent.runner import Run, RunOutcome, RunSpec
from agent.sandbox import SANDBOX_UID, Cell, Limits, Sandbox, SandboxError
from tests.agent.test_runner import Recorder

PYTHON = "/usr/bin/python3"
UID_BASE = 2_100_000


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A sandbox of two uids whose root the sandbox uids can reach (pytest's tmp dirs are private to root)."""
    root = Path("/var/tmp/computalot-sandbox-tests") / secrets.token_hex(4)
    box = Sandbox(root, UID_BASE, 2)
    box.check()
    yield box
    shutil.rmtree(root, ignore_errors=True)


class Attempt:
    """One sandboxed run of a Python source, its cell kept for inspection until the test ends."""

    def __init__(self, sandbox: Sandbox, tmp_path: Path) -> None:
        self.sandbox, self.tmp_path = sandbox, tmp_path
        self.cells: list[Cell] = []
        self.recorder = Recorder()

    def cell(self, source: str, limits: Limits | None = None) -> Cell:
        tree = self.tmp_path / f"tree-{len(self.cells)}"
        tree.mkdir()
        (tree / "task.py").write_text(textwrap.dedent(source))
        cell = self.sandbox.open(f"attempt-{len(self.cells)}", tree, ".", limits or Limits(memory_mb=None))
        self.cells.append(cell)
        return cell

    def run(self, cell: Cell, payload: dict[str, Any] | None = None, timeout_s: float = 30) -> RunOutcome:
        spec = RunSpec(
            (PYTHON, "task.py"),
            cell.host_workdir(),
            cell.task,
            payload or {},
            timeout_s,
            env={"COMPUTALOT_JOB_ID": payload.get("job", "job_x") if payload else "job_x"},
            sandbox=cell,
            log=cell.log,
        )
        return Run(spec, self.recorder.on_output, self.recorder.on_progress, kill_grace_s=0.5).execute()

    def __call__(self, source: str, payload: dict[str, Any] | None = None, **kwargs: Any) -> RunOutcome:
        limits = kwargs.pop("limits", None)
        return self.run(self.cell(source, limits), payload, **kwargs)


@pytest.fixture
def attempt(sandbox: Sandbox, tmp_path: Path) -> Iterator[Attempt]:
    runs = Attempt(sandbox, tmp_path)
    yield runs
    for cell in runs.cells:
        sandbox.close(cell)


def processes_with(marker: str) -> list[int]:
    """Host pids whose environment holds `marker` (the test runs as root and reads every /proc/PID/environ)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


REPORT = """
    import json, os
    def report(value):
        json.dump(value, open(os.environ["COMPUTALOT_TASK_RESULT"], "w"))
"""


# --- the runner protocol inside ---------------------------------------------------------------------------------


def test_a_sandboxed_task_reads_its_payload_reports_progress_and_writes_its_result_and_artifacts(
    attempt: Attempt,
) -> None:
    # Given a task that reads its payload, prints progress, writes an artifact and a result
    source = (
        REPORT
        + """
    payload = json.load(open(os.environ["COMPUTALOT_TASK_PAYLOAD"]))
    print('COMPUTALOT_PROGRESS:{"step": 1}', flush=True)
    open(os.path.join(os.environ["COMPUTALOT_ARTIFACT_DIR"], "out.txt"), "w").write("made")
    report({"doubled": [x * 2 for x in payload["xs"]], "cwd": os.getcwd(), "uid": os.getuid(),
            "env": sorted(os.environ)})
    """
    )
    cell = attempt.cell(source)

    # When it runs in the sandbox
    outcome = attempt.run(cell, {"xs": [1, 2]})

    # Then the protocol works at the fixed paths, as uid 65534 in /work, and the artifact is in the cell
    assert (outcome.status, outcome.error_code) == ("completed", ""), outcome.output_tail
    assert outcome.result["doubled"] == [2, 4]
    assert (outcome.result["cwd"], outcome.result["uid"]) == ("/work", SANDBOX_UID)
    assert attempt.recorder.progress == [{"step": 1}]
    assert (cell.task / "artifacts" / "out.txt").read_text() == "made"
    # And the host uid of what it wrote is one of the sandbox's range, never root (an agent that is not root
    # cannot switch uids: its tasks are its own uid outside, nobody inside)
    owner = (cell.task / "artifacts" / "out.txt").stat().st_uid
    assert owner in ((UID_BASE, UID_BASE + 1) if os.geteuid() == 0 else (os.geteuid(),))


def test_the_environment_is_the_allow_list_and_never_the_agents(
    attempt: Attempt, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given secrets in the agent's environment
    monkeypatch.setenv("COMPUTALOT_AGENT_TOKEN", "adm_secret")
    monkeypatch.setenv("COMPUTALOT_BROKER_URL", "amqp://user:pw@host/")

    # When a task reports its whole environment
    outcome = attempt(REPORT + "    report(dict(os.environ))\n")

    # Then it holds only the allow-listed names, and no value of the agent's
    env = outcome.result
    assert set(env) == {
        "PATH",
        "HOME",
        "TMPDIR",
        "LANG",
        "USER",
        "LOGNAME",
        "PYTHONUNBUFFERED",
        "PWD",
        "COMPUTALOT_JOB_ID",
        "COMPUTALOT_TASK_PAYLOAD",
        "COMPUTALOT_TASK_RESULT",
        "COMPUTALOT_ARTIFACT_DIR",
    }
    assert "secret" not in json.dumps(env) and "amqp" not in json.dumps(env)


def test_a_missing_program_is_command_not_found(attempt: Attempt) -> None:
    # Given a cell, When its command names a program the sandbox does not have
    cell = attempt.cell("")
    spec = RunSpec(("no-such-program",), cell.host_workdir(), cell.task, {}, 10, sandbox=cell, log=cell.log)
    outcome = Run(spec, attempt.recorder.on_output, attempt.recorder.on_progress).execute()

    # Then it failed before starting, naming it
    assert (outcome.status, outcome.exit_code, outcome.error_code) == ("failed", None, "command_not_found")
    assert "no-such-program" in outcome.error


# --- what a task cannot see or do -------------------------------------------------------------------------------


def test_a_task_sees_no_host_file_outside_its_cell(attempt: Attempt, tmp_path: Path) -> None:
    # Given a secret file of the agent's
    secret = tmp_path / "admin-token"
    secret.write_text("adm_secret")
    probes = [str(secret), "/root", "/work/../root", "/var/tmp", "/proc/1/environ", "/etc/shadow", "/home"]

    # When a task tries to read each path
    source = (
        REPORT
        + f"""
    seen = {{}}
    for path in {probes!r}:
        try:
            seen[path] = os.listdir(path) if os.path.isdir(path) else open(path, "rb").read().decode(errors="replace")
        except OSError as exc:
            seen[path] = type(exc).__name__
    report(seen)
    """
    )
    seen = attempt(source).result

    # Then none of them exists or is readable, and its pid 1 is the sandbox's init with no environment
    assert seen[str(secret)] == "FileNotFoundError"
    assert seen["/root"] == "FileNotFoundError" and seen["/home"] == "FileNotFoundError"
    assert seen["/var/tmp"] == "FileNotFoundError" and seen["/etc/shadow"] == "FileNotFoundError"
    assert "secret" not in seen["/proc/1/environ"] and "COMPUTALOT" not in seen["/proc/1/environ"]


def test_a_task_cannot_reach_a_port_on_the_hosts_loopback(attempt: Attempt) -> None:
    # Given a server listening on the host's 127.0.0.1
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]

        # When a task connects to it
        source = (
            REPORT
            + f"""
    import socket
    try:
        socket.create_connection(("127.0.0.1", {port}), timeout=2)
        report("connected")
    except OSError as exc:
        report(type(exc).__name__)
    """
        )

        # Then the connection is refused: the sandbox has its own network namespace
        assert attempt(source).result == "ConnectionRefusedError"


def test_what_a_task_writes_in_its_tree_stays_in_its_own_copy(attempt: Attempt, tmp_path: Path) -> None:
    # Given a task rewriting its own code
    outcome = attempt(REPORT + "    open('task.py', 'w').write('hijacked'); report('ok')\n")

    # Then it wrote only its cell's copy: the tree it was copied from is unchanged
    assert outcome.result == "ok"
    assert (tmp_path / "tree-0" / "task.py").read_text() != "hijacked"


def test_a_double_forked_daemon_dies_with_its_attempt(attempt: Attempt) -> None:
    # Given a task that starts a daemon (fork, setsid, fork) and exits at once
    marker = f"COMPUTALOT_JOB_ID=job_{secrets.token_hex(4)}"
    source = (
        REPORT
        + """
    import subprocess
    subprocess.Popen(["/bin/sh", "-c", "(setsid sleep 300 &)"]).wait()
    report("left a daemon")
    """
    )

    # When it completes
    outcome = attempt(source, {"job": marker.split("=", 1)[1]})

    # Then no process of the attempt remains on the host
    assert outcome.status == "completed"
    deadline = time.monotonic() + 5
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_with(marker) == []


def test_a_timeout_kills_every_process_of_the_sandbox(attempt: Attempt) -> None:
    # Given a task whose daemon ignores SIGTERM, and which itself sleeps past its timeout
    marker = f"COMPUTALOT_JOB_ID=job_{secrets.token_hex(4)}"
    source = """
    import subprocess, time
    subprocess.Popen(["/bin/sh", "-c", "(setsid sh -c 'trap \\"\\" TERM; sleep 300' &)"]).wait()
    print("started", flush=True)
    time.sleep(300)
    """

    # When it times out
    outcome = attempt(source, {"job": marker.split("=", 1)[1]}, timeout_s=1)

    # Then it is a timeout, and nothing of it is left running
    assert (outcome.status, outcome.error_code) == ("failed", "timeout")
    assert processes_with(marker) == []


def test_a_task_gets_sigterm_first_and_may_exit_on_its_own_terms(attempt: Attempt) -> None:
    # Given a task that handles SIGTERM by printing and exiting 7
    source = """
    import signal, sys, time
    def stop(*_):
        print("got SIGTERM", flush=True)
        sys.exit(7)
    signal.signal(signal.SIGTERM, stop)
    print("ready", flush=True)
    time.sleep(300)
    """

    # When it times out, Then its handler ran before it stopped
    outcome = attempt(source, timeout_s=1)
    assert outcome.error_code == "timeout"
    assert "got SIGTERM" in outcome.output_tail


# --- kernel limits ----------------------------------------------------------------------------------------------


def test_writing_past_the_file_size_limit_fails_with_resource_limit_exceeded(attempt: Attempt) -> None:
    # Given a 1 MiB file size limit, When a task writes 2 MiB to one file
    source = "open('/tmp/big', 'wb').write(b'x' * (2 << 20))\n"
    outcome = attempt(source, limits=Limits(memory_mb=None, fsize_mb=1))

    # Then it failed with the limit named
    assert (outcome.status, outcome.error_code) == ("failed", "resource_limit_exceeded")
    assert "1 MiB" in outcome.error


def test_allocating_past_the_memory_limit_fails_with_out_of_memory(attempt: Attempt) -> None:
    # Given a 256 MiB address-space limit, When a task allocates 1 GiB
    outcome = attempt("data = bytearray(1 << 30)\n", limits=Limits(memory_mb=256))

    # Then it failed as out of memory, with its limit named
    assert (outcome.status, outcome.error_code) == ("failed", "out_of_memory")
    assert "256 MiB" in outcome.error


def test_a_fork_bomb_stops_at_the_process_limit(attempt: Attempt) -> None:
    # Given a process limit of 20, When a task starts 50 sleepers
    source = """
    import subprocess
    children = [subprocess.Popen(["sleep", "30"]) for _ in range(50)]
    """
    outcome = attempt(source, limits=Limits(memory_mb=None, nproc=20))

    # Then it failed on the limit
    assert (outcome.status, outcome.error_code) == ("failed", "resource_limit_exceeded")
    assert "20 processes" in outcome.error


# --- the host ---------------------------------------------------------------------------------------------------


def test_the_sandbox_refuses_to_start_without_bubblewrap_and_says_why(tmp_path: Path) -> None:
    # Given a sandbox whose bwrap does not exist
    box = Sandbox(Path("/var/tmp/computalot-sandbox-tests") / "none", UID_BASE, 1, bwrap=str(tmp_path / "bwrap"))

    # When it is checked, Then it refuses, naming the package to install
    with pytest.raises(SandboxError, match="bubblewrap"):
        box.check()


def test_a_sandbox_root_someone_else_can_write_is_refused(tmp_path: Path) -> None:
    # Given a sandbox root that is world-writable
    root = Path("/var/tmp/computalot-sandbox-tests") / secrets.token_hex(4)
    root.mkdir(parents=True)
    os.chmod(root, 0o777)
    try:
        # When it is checked, Then it refuses
        with pytest.raises(SandboxError, match="no one else can write"):
            Sandbox(root, UID_BASE, 1).check()
    finally:
        shutil.rmtree(root)


def test_the_agent_refuses_to_run_tasks_where_the_sandbox_cannot_be_built_and_says_why(tmp_path: Path) -> None:
    # Given a sandbox directory the sandbox uids cannot reach (pytest's tmp dirs are private to their owner)
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    args = ["--controller", "http://127.0.0.1:9", "--broker", "memory://", "--slots", "1"]

    # When the agent starts with it
    result = CliRunner().invoke(
        main, [*args, "--sandbox-dir", str(private / "sandbox")], env={"COMPUTALOT_AGENT_TOKEN": "agent-key"}
    )

    # Then it exits before consuming anything, saying which directory is in the way
    assert result.exit_code == 1
    assert "refusing to run tasks" in result.output and "not searchable by others" in result.output


def test_a_workdir_leaving_the_tree_is_refused(sandbox: Sandbox, tmp_path: Path) -> None:
    # Given a workdir climbing out of the tree, When a cell is opened for it, Then it is refused
    with pytest.raises(SandboxError, match="leaves the project tree"):
        sandbox.open("escape", tmp_path, "../..", Limits(memory_mb=None))


def test_a_nul_byte_cannot_smuggle_an_option_into_bubblewrap(attempt: Attempt) -> None:
    # Given a cell, When a variable's value holds a NUL followed by a bubblewrap option
    cell = attempt.cell(REPORT + "    report('ran')\n")
    env = {"COMPUTALOT_JOB_ID": "job\0--bind\0/\0/host"}
    spec = RunSpec((PYTHON, "task.py"), cell.host_workdir(), cell.task, {}, 10, env=env, sandbox=cell, log=cell.log)
    outcome = Run(spec, attempt.recorder.on_output, attempt.recorder.on_progress).execute()

    # Then nothing ran: the command is invalid
    assert (outcome.status, outcome.error_code) == ("failed", "invalid_command")
