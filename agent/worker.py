"""The agent: a Dramatiq worker that claims, runs and reports task attempts."""

from __future__ import annotations

import logging
import math
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import dramatiq
import httpx
import zmq
from dramatiq.middleware import CurrentMessage

from agent.artifacts import INPUTS_DIR, ArtifactCache, ArtifactError, Outputs, upload_outputs
from agent.cache import RevisionCache
from agent.capabilities import detect
from agent.client import ControllerClient
from agent.metrics import TaskStats
from agent.pool import RecipePool, RecipeRequest, RecipeRun
from agent.runner import LOG_NAME, Run, RunOutcome, RunSpec
from agent.sandbox import Cell, Limits, Sandbox, SandboxError, own_directories
from agent.settings import AgentSettings
from agent.stream import ControlListener, EventStream
from broker.messages import AgentHeartbeat, Control, TaskMessage, TaskOutput, TaskProgress, TaskResult
from broker.queues import (
    ACTOR_PRIORITY,
    PRIORITIES,
    SIZES,
    recipe_key,
    recipe_queue,
    run_task_actor,
    sizes_served,
    task_queues,
)
from broker.statuses import TaskStatus
from broker.transport import send_result, task_from_args
from recipes import modules, queue_keys, registry
from recipes.features import detect_features

logger = logging.getLogger(__name__)


class Agent:
    """Pulls task attempts from the queues of its profiles and runs them under the runner protocol."""

    def __init__(self, settings: AgentSettings, broker: dramatiq.Broker) -> None:
        self.settings = settings
        self.broker = broker
        self.client = ControllerClient(settings.controller_url, settings.token)
        self.cache = RevisionCache(settings.cache_dir / "revisions", self.client)
        self.artifacts = ArtifactCache(settings.cache_dir / "artifacts", self.client)
        features = detect_features()
        self.recipes = {name: r for name, r in registry().items() if set(r.requires) <= set(features)}
        self.capabilities = detect(settings.profiles, tuple(self.recipes), features)
        self.pool = RecipePool(modules())
        #: capacity classes (presets) whose task queues this agent consumes
        self.sizes = sizes_served(self.capabilities)
        self._ctx = zmq.Context()
        self._runs: dict[str, tuple[str, Run | RecipeRun]] = {}
        #: attempts claimed and not yet reported, preparing included: heartbeats list them, so the controller's
        #: reaper never takes back an attempt this agent still holds
        self._held: set[str] = set()
        self._runs_lock = threading.Lock()
        self._stopping = threading.Event()
        self._events: EventStream | None = None
        self._control: ControlListener | None = None
        self._heartbeat: threading.Thread | None = None
        self._worker: dramatiq.Worker | None = None
        self.stats = TaskStats()
        self.sandbox = (
            Sandbox(
                settings.sandbox_dir / settings.agent_id,
                settings.sandbox_uid_base,
                settings.effective_slots,
                settings.sandbox_ro_paths,
            )
            if settings.sandbox
            else None
        )
        if not any(isinstance(m, CurrentMessage) for m in broker.middleware):
            broker.add_middleware(CurrentMessage())  # tells a task attempt which preset's queue it came from

    def start(self) -> None:
        """Connect the streams, announce this agent, and start consuming (waits for the controller).

        Raises:
          SandboxError: the task sandbox cannot be set up on this host (nothing is consumed then).
        """
        self._check_sandbox()
        endpoints = self._wait_for_controller()
        # the key is the agent's identity: claims, heartbeats and results carry the id the controller bound to it
        self.settings = replace(self.settings, agent_id=endpoints["agent_id"])
        self._events = EventStream(self._ctx, endpoints["events_endpoint"])
        self._control = ControlListener(self._ctx, endpoints["control_endpoint"], self._on_control)
        self._control.start()
        self._send_heartbeat()
        self._heartbeat = threading.Thread(target=self._heartbeat_loop, name="heartbeat", daemon=True)
        self._heartbeat.start()
        queues = task_queues(self.sizes) + self._recipe_queues()
        for queue in queues:
            self.broker.declare_queue(queue)
        for priority in PRIORITIES:
            dramatiq.actor(
                broker=self.broker,
                actor_name=run_task_actor(priority),
                queue_name=queues[0],
                priority=ACTOR_PRIORITY[priority],
                max_retries=1000,
                min_backoff=1000,
                max_backoff=60_000,
            )(self._run_task)
        self._worker = dramatiq.Worker(
            self.broker,
            queues=set(queues),
            worker_threads=self.settings.effective_slots,
            worker_timeout=100,
        )
        self._worker.start()
        logger.info(
            "agent=%s started with %d slots, serving %s",
            self.settings.agent_id,
            self.settings.effective_slots,
            ", ".join(self.sizes) or "nothing (host below every preset)",
        )

    def _check_sandbox(self) -> None:
        if self.sandbox is None:
            logger.warning(
                "agent=%s runs project tasks WITHOUT A SANDBOX (--unsafe-no-sandbox): every task can read this "
                "agent's token, files and network, and other tasks' files. Never do this with untrusted accounts.",
                self.settings.agent_id,
            )
            return
        self.sandbox.check()
        logger.info(
            "agent=%s runs project tasks in bubblewrap sandboxes under %s", self.settings.agent_id, self.sandbox.root
        )

    def _recipe_queues(self) -> list[str]:
        """Queues of every recipe this agent offers, including operations needing host tools it has."""
        keys = [
            recipe_key(name, extra)
            for name, recipe in self.recipes.items()
            for extra in queue_keys(recipe, self.capabilities.features)
        ]
        return [recipe_queue(key, priority) for key in keys for priority in PRIORITIES]

    def _wait_for_controller(self) -> dict[str, str]:
        delay_s = 0.2
        while True:
            try:
                return self.client.config()
            except httpx.TransportError as exc:
                logger.warning(
                    "controller %s unreachable (%s); retrying in %.1fs", self.settings.controller_url, exc, delay_s
                )
            if self._stopping.wait(delay_s):
                raise RuntimeError("agent stopped before the controller answered")
            delay_s = min(delay_s * 2, 5.0)

    def stop(self) -> None:
        """Stop consuming; running tasks are killed and their messages return to the broker."""
        self._stopping.set()
        with self._runs_lock:
            for _, run in self._runs.values():
                run.cancel()
        if self._worker is not None:
            self._worker.stop()
        self.pool.close()
        if self.sandbox is not None:
            self.sandbox.remove()
        if self._control is not None:
            self._control.stop()
            self._control.join(timeout=2)
        if self._heartbeat is not None:
            self._heartbeat.join(timeout=5)
        if self._events is not None:
            self._events.close()
        self.client.close()
        self._ctx.term()

    # -- the actor ---------------------------------------------------------------------------

    def _run_task(self, data: dict[str, Any]) -> None:
        """Claim, run and report one attempt. Raising makes Dramatiq redeliver it (controller unreachable)."""
        message = task_from_args(data)
        run, reason = self.client.claim(message.task_id, message.attempt, self.settings.agent_id)
        if not run:
            logger.info("task=%s attempt=%s skipped: %s", message.task_id, message.attempt, reason)
            return
        with self._runs_lock:
            self._held.add(message.task_id)
        try:
            result = self._execute(message)
        finally:
            with self._runs_lock:
                self._held.discard(message.task_id)
        self.stats.record(result)
        if self._stopping.is_set() and result.status == TaskStatus.CANCELLED:
            # Shutting down, not cancelled by the user: let the broker hand the attempt to another agent.
            raise RuntimeError(f"agent stopping; task={message.task_id} goes back to the broker")
        send_result(self.broker, result)

    def _execute(self, message: TaskMessage) -> TaskResult:
        started = time.time()
        try:
            run, scratch, log, cleanup = self._prepare(message)
        except (httpx.HTTPError, OSError, KeyError, ArtifactError, SandboxError) as exc:
            logger.warning("task=%s could not be prepared: %s", message.task_id, exc)
            error = f"could not prepare the task's runtime: {exc}"
            outcome = RunOutcome(TaskStatus.FAILED, None, None, error, "runtime_error", "", started, time.time())
            return _result(message, self.settings.agent_id, outcome, counts=False)
        with self._runs_lock:
            self._runs[message.task_id] = (message.job_id, run)
        try:
            outcome = run.execute()
            outcome, outputs = self._persist_outputs(message, scratch, log, outcome)
        finally:
            with self._runs_lock:
                self._runs.pop(message.task_id, None)
            cleanup()
        logger.info("task=%s attempt=%s %s", message.task_id, message.attempt, outcome.status)
        return _result(message, self.settings.agent_id, outcome, counts=outputs is not None, outputs=outputs)

    def _prepare(self, message: TaskMessage) -> tuple[Run | RecipeRun, Path, Path, Callable[[], None]]:
        """The attempt's run, the directory its artifacts are collected from, its log, and how to clean up."""
        scratch = self.settings.cache_dir / "tasks" / f"{message.task_id}-{message.attempt}"

        def remove_scratch() -> None:
            shutil.rmtree(scratch, ignore_errors=True)

        if message.runtime == "recipe":
            return self._recipe_run(message, scratch), scratch, scratch / LOG_NAME, remove_scratch
        if self.sandbox is None:
            return self._process_run(message, scratch), scratch, scratch / LOG_NAME, remove_scratch
        sandbox = self.sandbox
        run, cell = self._sandboxed_run(message, sandbox)
        return run, cell.task, cell.log, lambda: sandbox.close(cell)

    def _persist_outputs(
        self, message: TaskMessage, scratch: Path, log: Path, outcome: RunOutcome
    ) -> tuple[RunOutcome, Outputs | None]:
        """Upload the attempt's artifact files and log; a failed upload fails the attempt (None: not counted)."""
        if outcome.status == TaskStatus.CANCELLED:
            return outcome, Outputs()
        try:
            return outcome, upload_outputs(self.client, scratch, log, message.job_id, message.task_id)
        except (httpx.HTTPError, OSError) as exc:
            logger.warning("task=%s could not upload its outputs: %s", message.task_id, exc)
            error = f"could not upload the task's output artifacts: {exc}"
            failed = replace(outcome, status=TaskStatus.FAILED, result=None, error=error, error_code="runtime_error")
            return failed, None

    def _process_run(self, message: TaskMessage, scratch: Path) -> Run:
        """The user's command in the project revision's tree (fetched once per content hash)."""
        tree = self.cache.ensure(message.revision_hash)
        self.artifacts.place(message.payload, scratch / INPUTS_DIR)
        return Run(
            RunSpec(
                command=message.command,
                cwd=tree / message.workdir,
                scratch=scratch,
                payload=message.payload,
                timeout_s=message.timeout_s,
                env={**self._task_env(message, checkpoints=True), "COMPUTALOT_INPUT_DIR": str(scratch / INPUTS_DIR)},
            ),
            on_output=self._output_sender(message),
            on_progress=self._progress_sender(message),
            kill_grace_s=self.settings.kill_grace_s,
        )

    def _sandboxed_run(self, message: TaskMessage, sandbox: Sandbox) -> tuple[Run, Cell]:
        """The user's command in a sandbox cell: a private copy of the revision tree, its inputs placed in it."""
        tree = self.cache.ensure(message.revision_hash)
        checkpoint = message.task_id if message.checkpointing else ""
        limits, gpu = self._limits(message)
        name = f"{message.task_id}-{message.attempt}"
        cell = sandbox.open(name, tree, message.workdir, limits, checkpoint, gpu)
        try:
            self.artifacts.place(message.payload, cell.host_workdir())
            own_directories(cell.work, cell.uid)
        except BaseException:
            sandbox.close(cell)
            raise
        spec = RunSpec(
            command=message.command,
            cwd=cell.host_workdir(),
            scratch=cell.task,
            payload=message.payload,
            timeout_s=message.timeout_s,
            env={**self._task_env(message, checkpoints=False), "COMPUTALOT_INPUT_DIR": cell.inner_workdir},
            sandbox=cell,
            log=cell.log,
        )
        run = Run(
            spec,
            on_output=self._output_sender(message),
            on_progress=self._progress_sender(message),
            kill_grace_s=self.settings.kill_grace_s,
        )
        return run, cell

    def _limits(self, message: TaskMessage) -> tuple[Limits, bool]:
        """The attempt's kernel limits (memory from the preset of its queue, CPU time from its timeout); GPU or not."""
        current = CurrentMessage.get_current_message()
        parts = current.queue_name.removesuffix(".DQ").split(".") if current is not None else []
        size = next((SIZES[part] for part in parts if part in SIZES), None)
        # GPU runtimes map address ranges far larger than memory: no RLIMIT_AS for GPU presets.
        memory_mb = size.memory_mb if size is not None and size.gpu_count == 0 else None
        # A backstop only: the wall-clock timeout stops the task long before every CPU is used for that long.
        cpu_s = math.ceil(message.timeout_s * (os.cpu_count() or 1)) + 1
        limits = Limits(memory_mb, self.settings.task_nproc, self.settings.task_fsize_mb, cpu_s)
        return limits, size is not None and size.gpu_count > 0

    def _recipe_run(self, message: TaskMessage, scratch: Path) -> RecipeRun:
        """The recipe on a warm worker of this agent's pool."""
        if message.recipe not in self.recipes:
            raise KeyError(f"this agent does not offer the {message.recipe!r} recipe")
        recipe = self.recipes[message.recipe]
        refs = [message.payload[f] for f in recipe.artifact_inputs if isinstance(message.payload.get(f), str)]
        request = RecipeRequest(
            payload=message.payload,
            timeout_s=message.timeout_s,
            output_dir=scratch / "artifacts",
            inputs={ref: str(self.artifacts.ensure(ref)) for ref in refs},
            log_path=scratch / LOG_NAME,
        )
        return RecipeRun(
            self.pool,
            message.recipe,
            request,
            on_output=self._output_sender(message),
            on_progress=self._progress_sender(message),
            on_publish=self._publisher(message),
        )

    def _publisher(self, message: TaskMessage) -> Callable[[Path, str], str]:
        def publish(path: Path, filename: str) -> str:
            """Upload a file as an artifact of the job's account; its id."""
            return self.client.upload_artifact(path, filename, message.job_id, message.task_id)["id"]

        return publish

    def _task_env(self, message: TaskMessage, checkpoints: bool) -> dict[str, str]:
        env = {
            "COMPUTALOT_TASK_INDEX": str(message.index),
            "COMPUTALOT_TASK_COUNT": str(message.count),
            "COMPUTALOT_JOB_ID": message.job_id,
            "COMPUTALOT_TASK_ID": message.task_id,
            "COMPUTALOT_ATTEMPT": str(message.attempt),
        }
        if message.checkpointing and checkpoints:
            directory = self.settings.cache_dir / "checkpoints" / message.task_id
            directory.mkdir(parents=True, exist_ok=True)
            env["COMPUTALOT_CHECKPOINT_DIR"] = str(directory)
        return env

    def _output_sender(self, message: TaskMessage) -> Callable[[str, list[str]], None]:
        seqs: dict[str, int] = {}

        def send(stream: str, lines: list[str]) -> None:
            seqs[stream] = seqs.get(stream, 0) + 1
            assert self._events is not None
            self._events.send(
                TaskOutput(
                    job_id=message.job_id,
                    task_id=message.task_id,
                    attempt=message.attempt,
                    seq=seqs[stream],
                    lines=tuple(lines),
                    stream=stream,
                )
            )

        return send

    def _progress_sender(self, message: TaskMessage) -> Callable[[dict[str, Any]], None]:
        seq = 0

        def send(progress: dict[str, Any]) -> None:
            nonlocal seq
            seq += 1
            assert self._events is not None
            self._events.send(
                TaskProgress(
                    job_id=message.job_id, task_id=message.task_id, attempt=message.attempt, seq=seq, progress=progress
                )
            )

        return send

    # -- control and liveness ----------------------------------------------------------------------

    def _on_control(self, control: Control) -> None:
        if control.action != "cancel":
            return
        with self._runs_lock:
            runs = [run for job_id, run in self._runs.values() if job_id == control.job_id]
        for run in runs:
            run.cancel()
        if runs:
            logger.info("job=%s cancelled: stopping %d running tasks", control.job_id, len(runs))

    def _heartbeat_loop(self) -> None:
        while not self._stopping.wait(self.settings.heartbeat_interval_s):
            self._send_heartbeat()

    def _send_heartbeat(self) -> None:
        with self._runs_lock:
            running = tuple(self._held | set(self._runs))
        assert self._events is not None
        self._events.send(
            AgentHeartbeat(
                agent_id=self.settings.agent_id,
                capabilities=self.capabilities,
                slots=self.settings.effective_slots,
                revisions=self.cache.revisions(),
                running_tasks=running,
                sent_at=time.time(),
                slots_busy=len(running),
                **self.stats.snapshot(),
            )
        )


def _result(
    message: TaskMessage, agent_id: str, outcome: RunOutcome, counts: bool = True, outputs: Outputs | None = None
) -> TaskResult:
    outputs = outputs or Outputs()
    return TaskResult(
        job_id=message.job_id,
        task_id=message.task_id,
        attempt=message.attempt,
        status=outcome.status,
        agent_id=agent_id,
        exit_code=outcome.exit_code,
        result=outcome.result,
        error=outcome.error,
        error_code=outcome.error_code,
        output_tail=outcome.output_tail,
        started_at=outcome.started_at,
        finished_at=outcome.finished_at,
        counts_as_attempt=counts,
        artifacts=outputs.artifacts,
        output_artifact=outputs.log,
        progress=outcome.progress,
    )
