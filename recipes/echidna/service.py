"""One Echidna run: unpack and check the project, run Echidna under the task timeout, report, upload outputs."""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import tarfile
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recipes.base import RecipeContext, RecipeError
from recipes.echidna import archive, command, tools
from recipes.echidna.output import RunLog, parse_report, summarize
from recipes.echidna.process import run_lines
from recipes.echidna.project import Project, locate, require_contract
from recipes.echidna.schema import DEFAULT_TEST_MODE

CORPUS_ARCHIVE = "echidna-corpus.tar.gz"
#: Coverage reports Echidna writes into the corpus folder (`covered.<time>.txt`, `.html`, `.lcov`).
COVERAGE_GLOB = "covered.*"
MAX_COVERAGE_FILES = 12
#: Environment variables that would change Echidna's behaviour behind the payload's back (RPC forking, traces).
_ENV_PREFIXES = ("ECHIDNA_",)


class AgentMisconfigured(RecipeError):
    """The agent advertised `echidna` but cannot run it."""

    code = "agent_misconfigured"


class EchidnaFailed(RecipeError):
    """Echidna ended without a report."""

    code = "echidna_failed"


class EchidnaTimedOut(EchidnaFailed):
    """Echidna was stopped at the task's deadline before it printed its report."""

    code = "timeout"


@dataclass(frozen=True)
class Timing:
    """When to stop Echidna, how long it may fuzz, and how long it gets to wrap up after SIGTERM."""

    stop_at: float
    campaign_s: int | None
    grace_s: float

    @classmethod
    def plan(cls, deadline: float | None, now: float) -> Timing:
        """Reserve ~10% of the time left for uploads and ~20% for compile-reading, shrinking and saving."""
        if deadline is None or not math.isfinite(deadline):
            return cls(math.inf, None, 5.0)
        left = max(deadline - now, 0.0)
        stop_at = deadline - min(30.0, max(1.0, 0.1 * left))
        startup = min(120.0, max(1.0, 0.2 * left))
        return cls(stop_at, max(1, int(stop_at - now - startup)), min(10.0, max(0.5, 0.05 * left)))


def _executable() -> tuple[str, tuple[int, int, int] | None]:
    missing = tools.missing_tools()
    if missing:
        raise AgentMisconfigured(f"this agent lacks {', '.join(missing)} on PATH; see the recipe's OPERATOR.md")
    path = shutil.which("echidna")
    assert path is not None
    version = tools.echidna_version(path)
    if not tools.is_supported(version):
        low, high = tools.version_text(tools.MIN_VERSION), tools.version_text(tools.MAX_VERSION_EXCLUSIVE)
        raise AgentMisconfigured(
            f"this agent's Echidna is version {tools.version_text(version)}; the recipe supports {low} up to {high} "
            "(excluded)"
        )
    return path, version


def _environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(_ENV_PREFIXES)}


class _Relay:
    """Forwards Echidna's log lines to the task output and its status lines to progress."""

    def __init__(self, ctx: RecipeContext, log: RunLog) -> None:
        self.ctx, self.log = ctx, log
        self.stderr: deque[str] = deque(maxlen=20)

    def __call__(self, stream: str, line: str) -> None:
        if stream == "stderr":
            self.stderr.append(line)
            print(line, file=sys.stderr)
            return
        kind = self.log.feed(line)
        if kind == "report":
            return  # the report is the result; it can be megabytes of coverage
        print(line)
        if kind == "status" and self.log.status:
            self.ctx.progress(**self.log.status)
        elif kind == "falsified":
            self.ctx.progress(falsified=self.log.falsified[-1])


def _failure(returncode: int | None, timed_out: bool, relay: _Relay) -> RecipeError:
    tail = "\n".join([*list(relay.log.tail)[-10:], *relay.stderr]).strip()
    if timed_out:
        return EchidnaTimedOut(
            f"Echidna did not report before the task timeout; raise the timeout or lower test_limit\n{tail}"
        )
    return EchidnaFailed(f"Echidna exited with code {returncode} without a report:\n{tail or '(no output)'}")


def _publish_outputs(corpus: Path, work: Path, ctx: RecipeContext) -> dict[str, Any]:
    """Upload the corpus (sequences and reproducers) as one tar.gz and each coverage report as it is."""
    published: dict[str, Any] = {"corpus": None, "coverage": {}}
    if not corpus.is_dir():
        return published
    folders = sorted(p for p in corpus.iterdir() if p.is_dir() and any(q.is_file() for q in p.rglob("*")))
    if folders:
        bundle = work / CORPUS_ARCHIVE
        with tarfile.open(bundle, "w:gz") as tar:
            for folder in folders:
                tar.add(folder, arcname=f"corpus/{folder.name}")
        published["corpus"] = ctx.publish_artifact(bundle, CORPUS_ARCHIVE)
    for report in sorted(p for p in corpus.glob(COVERAGE_GLOB) if p.is_file())[:MAX_COVERAGE_FILES]:
        published["coverage"][report.name] = ctx.publish_artifact(report, report.name)
    return published


def _prepare(payload: dict[str, Any], ctx: RecipeContext, work: Path) -> Project:
    try:
        archive.extract(ctx.artifact_path(payload["project_ref"]), work / "project")
        project = locate(work / "project", payload["operation"])
    except RecipeError as exc:
        exc.args = (f"project_ref {payload['project_ref']!r}: {exc}",)
        raise
    require_contract(project, payload["contract"])
    return project


def run_operation(payload: dict[str, Any], ctx: RecipeContext) -> dict[str, Any]:
    """Fuzz `payload['contract']` of the prebuilt project; the payload has already passed the schema."""
    executable, version = _executable()
    with tempfile.TemporaryDirectory(prefix="echidna-") as tmp:
        work = Path(tmp)
        project = _prepare(payload, ctx, work)
        timing = Timing.plan(getattr(ctx, "deadline", None), time.monotonic())
        foundry_mode = tools.foundry_test_mode(executable) if payload.get("test_mode") == "foundry" else "foundry"
        invocation = command.build(
            executable, payload, project, work / "corpus", work / "echidna-config.json", timing.campaign_s, foundry_mode
        )
        if invocation.config:
            invocation.config_path.write_text(json.dumps(invocation.config), encoding="utf-8")  # JSON is YAML
        relay = _Relay(ctx, RunLog())
        shown = ["echidna", *(a.replace(tmp, "$WORK") for a in invocation.argv[1:])]
        print("$ " + " ".join(shown))
        finished = run_lines(invocation.argv, project.root, _environment(), timing.stop_at, relay, timing.grace_s)
        if relay.log.report is None:
            raise _failure(finished.returncode, finished.timed_out, relay)
        summary = summarize(parse_report(relay.log.report), relay.log)
        artifacts = _publish_outputs(work / "corpus", work, ctx)
    return {
        "operation": payload["operation"],
        "contract": payload["contract"],
        "test_mode": payload.get("test_mode", DEFAULT_TEST_MODE),
        "echidna_version": tools.version_text(version),
        "command": shown,
        "exit_code": finished.returncode,
        "timed_out": finished.timed_out,
        **summary,
        "artifacts": artifacts,
    }
