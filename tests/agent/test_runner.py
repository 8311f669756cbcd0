"""Tests of agent.runner with real subprocesses: results, environment, failures, timeouts, cancel, output, progress."""

from __future__ import annotations

import json
import os
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from agent.runner import TAIL_BYTES, Run, RunOutcome, RunSpec, Tail


class Recorder:
    """Collects what a Run hands to its callbacks (called from the reader and supervisor threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.output: list[tuple[str, str]] = []
        self.progress: list[dict[str, Any]] = []

    def on_output(self, stream: str, lines: list[str]) -> None:
        with self.lock:
            self.output.extend((stream, line) for line in lines)

    def on_progress(self, progress: dict[str, Any]) -> None:
        with self.lock:
            self.progress.append(progress)

    def lines(self, stream: str) -> list[str]:
        return [line for s, line in self.output if s == stream]


def script(tmp_path: Path, source: str) -> tuple[str, ...]:
    """A command running `source` with this Python."""
    path = tmp_path / "task.py"
    path.write_text(textwrap.dedent(source))
    return (sys.executable, str(path))


def make_run(
    tmp_path: Path,
    command: tuple[str, ...],
    *,
    payload: dict[str, Any] | None = None,
    timeout_s: float = 30,
    env: dict[str, str] | None = None,
    recorder: Recorder | None = None,
) -> Run:
    spec = RunSpec(
        command=command,
        cwd=tmp_path,
        scratch=tmp_path / "scratch",
        payload=payload if payload is not None else {},
        timeout_s=timeout_s,
        env=env or {},
    )
    recorder = recorder or Recorder()
    return Run(spec, recorder.on_output, recorder.on_progress, kill_grace_s=0.5)


def is_gone(pid: int) -> bool:
    """True once `pid` no longer runs (absent, or a zombie waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def wait_until_gone(pid: int, within_s: float = 5.0) -> bool:
    deadline = time.monotonic() + within_s
    while not is_gone(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


WRITE_RESULT = """
    import json, os
    payload = json.load(open(os.environ["COMPUTALOT_TASK_PAYLOAD"]))
    json.dump({"doubled": [x * 2 for x in payload["xs"]]}, open(os.environ["COMPUTALOT_TASK_RESULT"], "w"))
"""


# --- results -----------------------------------------------------------------------------------------------------


def test_a_successful_command_reads_the_payload_and_its_result_is_returned(tmp_path: Path) -> None:
    # Given a script that doubles the numbers in its payload
    run = make_run(tmp_path, script(tmp_path, WRITE_RESULT), payload={"xs": [1, 2, 3]})

    # When it runs
    outcome = run.execute()

    # Then it completed with the result from its result file, and the payload file holds the payload
    assert (outcome.status, outcome.exit_code, outcome.error, outcome.error_code) == ("completed", 0, "", "")
    assert outcome.result == {"doubled": [2, 4, 6]}
    assert json.loads((tmp_path / "scratch" / "payload.json").read_text()) == {"xs": [1, 2, 3]}
    assert outcome.started_at <= outcome.finished_at


def test_a_stale_result_file_from_an_earlier_attempt_is_not_reused(tmp_path: Path) -> None:
    # Given a result file left in the scratch dir, and a command that writes none
    (tmp_path / "scratch").mkdir()
    (tmp_path / "scratch" / "result.json").write_text('{"old": true}')
    run = make_run(tmp_path, script(tmp_path, "pass"))

    # When it runs, Then it has no result
    assert run.execute().error_code == "bad_result"


def test_the_command_gets_the_task_environment_and_the_extra_env(tmp_path: Path) -> None:
    # Given a script that reports its environment and working directory as its result
    source = """
        import json, os
        names = [
            "COMPUTALOT_TASK_PAYLOAD", "COMPUTALOT_TASK_RESULT", "COMPUTALOT_ARTIFACT_DIR", "COMPUTALOT_TASK_INDEX"
        ]
        env = {name: os.environ.get(name) for name in names}
        env["cwd"] = os.getcwd()
        env["artifact_dir_exists"] = os.path.isdir(env["COMPUTALOT_ARTIFACT_DIR"])
        json.dump(env, open(os.environ["COMPUTALOT_TASK_RESULT"], "w"))
    """
    run = make_run(tmp_path, script(tmp_path, source), env={"COMPUTALOT_TASK_INDEX": "4"})

    # When it runs
    result = run.execute().result

    # Then it saw the payload, result and artifact paths in its scratch dir, the extra env, and ran in cwd
    scratch = tmp_path / "scratch"
    assert result == {
        "COMPUTALOT_TASK_PAYLOAD": str(scratch / "payload.json"),
        "COMPUTALOT_TASK_RESULT": str(scratch / "result.json"),
        "COMPUTALOT_ARTIFACT_DIR": str(scratch / "artifacts"),
        "COMPUTALOT_TASK_INDEX": "4",
        "cwd": str(tmp_path),
        "artifact_dir_exists": True,
    }


def test_extra_env_cannot_redirect_the_task_paths(tmp_path: Path) -> None:
    # Given extra env that tries to set the result path
    source = 'import os; open(os.environ["COMPUTALOT_TASK_RESULT"], "w").write("1")'
    run = make_run(tmp_path, script(tmp_path, source), env={"COMPUTALOT_TASK_RESULT": str(tmp_path / "elsewhere")})

    # When it runs, Then the runner's own path wins and the result is read from it
    assert run.execute().result == 1
    assert not (tmp_path / "elsewhere").exists()


# --- failures ----------------------------------------------------------------------------------------------------


def test_a_non_zero_exit_fails_with_the_exit_code(tmp_path: Path) -> None:
    # Given a script that writes a result but exits 3
    source = WRITE_RESULT + "    raise SystemExit(3)\n"
    run = make_run(tmp_path, script(tmp_path, source), payload={"xs": []})

    # When it runs
    outcome = run.execute()

    # Then it failed with exit code 3, and its result is not used
    assert (outcome.status, outcome.exit_code, outcome.error_code) == ("failed", 3, "exit_code")
    assert outcome.result is None
    assert "3" in outcome.error


def test_no_result_file_is_a_bad_result(tmp_path: Path) -> None:
    # Given a script that exits 0 without writing a result
    run = make_run(tmp_path, script(tmp_path, "print('done')"))

    # When it runs, Then it failed with bad_result, naming the variable
    outcome = run.execute()
    assert (outcome.status, outcome.exit_code, outcome.error_code) == ("failed", 0, "bad_result")
    assert "COMPUTALOT_TASK_RESULT" in outcome.error


@pytest.mark.parametrize("content", [b'{"score": ', b"not json", b"\xff\xfe"])
def test_a_result_that_is_not_json_is_a_bad_result(tmp_path: Path, content: bytes) -> None:
    # Given a script that writes a broken result file
    source = f'import os; open(os.environ["COMPUTALOT_TASK_RESULT"], "wb").write({content!r})'
    run = make_run(tmp_path, script(tmp_path, source))

    # When it runs, Then it failed with bad_result
    outcome = run.execute()
    assert (outcome.status, outcome.error_code) == ("failed", "bad_result")
    assert "not valid JSON" in outcome.error


def test_a_command_that_does_not_exist_fails_with_command_not_found(tmp_path: Path) -> None:
    # Given a command that is not on disk
    run = make_run(tmp_path, (str(tmp_path / "no-such-program"), "--flag"))

    # When it runs, Then it failed before starting, naming the command
    outcome = run.execute()
    assert (outcome.status, outcome.exit_code, outcome.error_code) == ("failed", None, "command_not_found")
    assert "no-such-program" in outcome.error


def test_a_command_with_a_nul_byte_fails_the_attempt_instead_of_raising(tmp_path: Path) -> None:
    # Given a command whose argument holds a NUL (no process can be given it; subprocess raises ValueError)
    run = make_run(tmp_path, (sys.executable, "-c", "print(1)\x00"))

    # When it runs
    outcome = run.execute()

    # Then the attempt ends failed with a clear error, and the output log it opened is closed
    assert (outcome.status, outcome.exit_code, outcome.error_code) == ("failed", None, "invalid_command")
    assert "null byte" in outcome.error
    assert outcome.result is None and outcome.finished_at >= outcome.started_at
    assert run._log is None


# --- timeout and cancel ------------------------------------------------------------------------------------------


def test_a_timeout_kills_the_whole_process_group_including_grandchildren(tmp_path: Path) -> None:
    # Given a script that starts `sleep 300`, records its pid, and then waits forever
    pid_file = tmp_path / "child.pid"
    source = f"""
        import subprocess, time
        child = subprocess.Popen(["sleep", "300"])
        with open({str(pid_file)!r}, "w") as f:
            f.write(str(child.pid))
        print("started", flush=True)
        time.sleep(300)
    """
    run = make_run(tmp_path, script(tmp_path, source), timeout_s=1)

    # When it runs past its 1 s timeout
    outcome = run.execute()

    # Then it failed with timeout, and the grandchild is gone too
    assert (outcome.status, outcome.error_code) == ("failed", "timeout")
    assert "timed out after 1 s" in outcome.error
    assert outcome.result is None
    assert "started" in outcome.output_tail
    child = int(pid_file.read_text())
    assert wait_until_gone(child), f"grandchild {child} survived the timeout"


def test_a_command_ignoring_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    # Given a script that ignores SIGTERM
    source = """
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("ignoring", flush=True)
        time.sleep(300)
    """
    run = make_run(tmp_path, script(tmp_path, source), timeout_s=1)

    # When it times out
    outcome = run.execute()

    # Then it is still stopped (by SIGKILL) and reported as a timeout
    assert (outcome.status, outcome.error_code, outcome.exit_code) == ("failed", "timeout", -9)


def test_cancel_from_another_thread_stops_the_command(tmp_path: Path) -> None:
    # Given a long script, and a progress callback (a reader thread) that cancels the run
    pid_file = tmp_path / "child.pid"
    source = f"""
        import subprocess, time
        child = subprocess.Popen(["sleep", "300"])
        open({str(pid_file)!r}, "w").write(str(child.pid))
        print('COMPUTALOT_PROGRESS:{{"step": 1}}', flush=True)
        time.sleep(300)
    """
    recorder = Recorder()
    run: Run | None = None

    def cancel_on_progress(progress: dict[str, Any]) -> None:
        recorder.on_progress(progress)
        assert run is not None
        run.cancel()

    spec = RunSpec(script(tmp_path, source), tmp_path, tmp_path / "scratch", {}, timeout_s=60)
    run = Run(spec, recorder.on_output, cancel_on_progress, kill_grace_s=0.5)

    # When it runs
    outcome = run.execute()

    # Then it was cancelled, not timed out, and its process group is gone
    assert (outcome.status, outcome.error_code) == ("cancelled", "cancelled")
    assert outcome.result is None
    assert recorder.progress == [{"step": 1}]
    assert wait_until_gone(int(pid_file.read_text()))


# --- output and progress -----------------------------------------------------------------------------------------


def test_progress_lines_reach_on_progress_and_invalid_ones_are_ignored(tmp_path: Path) -> None:
    # Given a script printing valid, invalid and non-object progress lines
    source = """
        import os, sys
        print('COMPUTALOT_PROGRESS:{"done": 1, "of": 3}')
        print('COMPUTALOT_PROGRESS:{not json')
        print('COMPUTALOT_PROGRESS:[1, 2]')
        print('COMPUTALOT_PROGRESS:{"done": 3, "of": 3}', file=sys.stderr)
        print('COMPUTALOT_PROGRESS:{"done": 2, "of": 3}')
        open(os.environ["COMPUTALOT_TASK_RESULT"], "w").write("{}")
    """
    recorder = Recorder()
    run = make_run(tmp_path, script(tmp_path, source), recorder=recorder)

    # When it runs
    outcome = run.execute()

    # Then only the valid stdout objects are progress, in order, and the run still completes
    assert outcome.status == "completed"
    assert recorder.progress == [{"done": 1, "of": 3}, {"done": 2, "of": 3}]
    assert "COMPUTALOT_PROGRESS:{not json" in recorder.lines("stdout")


def test_output_lines_reach_on_output_with_their_stream(tmp_path: Path) -> None:
    # Given a script writing to both streams
    source = """
        import sys
        print("out 1")
        print("err 1", file=sys.stderr)
        print("out 2")
        print("caf\\u00e9")
    """
    recorder = Recorder()
    run = make_run(tmp_path, script(tmp_path, source), recorder=recorder)

    # When it runs
    outcome = run.execute()

    # Then each line arrives once, under its stream, in order within the stream, and in the tail
    assert recorder.lines("stdout") == ["out 1", "out 2", "café"]
    assert recorder.lines("stderr") == ["err 1"]
    for line in ("out 1", "err 1", "out 2", "café"):
        assert line in outcome.output_tail


def test_output_arrives_while_the_command_runs(tmp_path: Path) -> None:
    # Given a script that prints a line and then waits for a file this test creates on seeing that line
    go = tmp_path / "go"
    source = f"""
        import os, time
        print("waiting", flush=True)
        while not os.path.exists({str(go)!r}):
            time.sleep(0.01)
        open(os.environ["COMPUTALOT_TASK_RESULT"], "w").write("{{}}")
    """
    seen: list[str] = []

    def on_output(stream: str, lines: list[str]) -> None:
        seen.extend(lines)
        go.touch()

    spec = RunSpec(script(tmp_path, source), tmp_path, tmp_path / "scratch", {}, timeout_s=10)

    # When it runs (it can only finish if on_output was called before it exited)
    outcome = Run(spec, on_output, lambda progress: None, kill_grace_s=0.5).execute()

    # Then it completed, having been seen mid-run
    assert outcome.status == "completed"
    assert seen == ["waiting"]


def test_the_tail_of_a_run_keeps_only_the_last_10_kb(tmp_path: Path) -> None:
    # Given a script printing about 60 KB
    source = """
        for i in range(5000):
            print(f"line-{i:05d}")
    """
    recorder = Recorder()
    run = make_run(tmp_path, script(tmp_path, source), recorder=recorder)

    # When it runs
    outcome = run.execute()

    # Then every line was delivered, but the tail holds at most 10 KB, ending with the last line
    assert len(recorder.lines("stdout")) == 5000
    assert len(outcome.output_tail) <= TAIL_BYTES == 10 * 1024
    assert len(outcome.output_tail) > TAIL_BYTES - 20
    assert outcome.output_tail.endswith("line-04999\n")
    assert "line-00000" not in outcome.output_tail


# --- Tail --------------------------------------------------------------------------------------------------------


def test_tail_keeps_the_most_recent_lines_within_its_limit() -> None:
    # Given a tail of 20 characters
    tail = Tail(limit=20)

    # When five 5-character lines are added (6 with their newlines)
    for word in ("aaaaa", "bbbbb", "ccccc", "ddddd", "eeeee"):
        tail.add(word)

    # Then whole old lines are dropped until the rest fits in 20 characters (three lines, 18 characters)
    assert tail.text() == "ccccc\nddddd\neeeee\n"


def test_tail_cuts_a_single_line_longer_than_its_limit() -> None:
    # Given a tail of 8 characters, When one long line is added, Then its end is kept
    tail = Tail(limit=8)
    tail.add("0123456789abcdef")
    assert tail.text() == "9abcdef\n"


def test_an_empty_tail_is_empty() -> None:
    # Given a new tail, Then its text is empty
    assert Tail().text() == ""


def test_outcome_is_a_plain_record(tmp_path: Path) -> None:
    # Given a completed run, Then its outcome is a RunOutcome with float timestamps
    outcome = make_run(
        tmp_path, script(tmp_path, 'import os; open(os.environ["COMPUTALOT_TASK_RESULT"], "w").write("[]")')
    ).execute()
    assert isinstance(outcome, RunOutcome)
    assert outcome.result == []
    assert isinstance(outcome.started_at, float) and isinstance(outcome.finished_at, float)
    assert os.path.isdir(tmp_path / "scratch" / "artifacts")


def test_the_tail_is_measured_in_bytes_not_characters(tmp_path: Path) -> None:
    # Given a script printing about 60 KB of two-byte UTF-8 characters
    source = """
        for i in range(3000):
            print("é" * 10)
    """
    run = make_run(tmp_path, script(tmp_path, source))

    # When it runs
    outcome = run.execute()

    # Then its tail is at most TAIL_BYTES (10 KB) once encoded, as JOBS.md's "last 10 KB" promises
    assert outcome.output_tail.endswith("é" * 10 + "\n")
    assert len(outcome.output_tail.encode("utf-8")) <= TAIL_BYTES
