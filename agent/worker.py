"""The agent: a Dramatiq worker that claims, runs and reports task attempts."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from typing import Any

import dramatiq
import httpx
import zmq

from agent.cache import RevisionCache
from agent.capabilities import detect
from agent.client import ControllerClient
from agent.runner import Run, RunOutcome, RunSpec
from agent.settings import AgentSettings
from agent.stream import ControlListener, EventStream
from broker.messages import AgentHeartbeat, Control, TaskMessage, TaskOutput, TaskProgress, TaskResult
from broker.queues import ACTOR_PRIORITY, PRIORITIES, run_task_actor, sizes_served, task_queues
from broker.transport import send_result, task_from_args

logger = logging.getLogger(__name__)


class Agent:
    """Pulls task attempts from the queues of its profiles and runs them under the runner protocol."""

    def __init__(self, settings: AgentSettings, broker: dramatiq.Broker) -> None:
        self.settings = settings
        self.broker = broker
        self.client = ControllerClient(settings.controller_url, settings.token)
        self.cache = RevisionCache(settings.cache_dir / "revisions", self.client)
        self.capabilities = detect(settings.profiles)
        #: capacity classes (presets) whose task queues this agent consumes
        self.sizes = sizes_served(self.capabilities)
        self._ctx = zmq.Context()
        self._runs: dict[str, tuple[str, Run]] = {}
        self._runs_lock = threading.Lock()
        self._stopping = threading.Event()
        self._events: EventStream | None = None
        self._control: ControlListener | None = None
        self._heartbeat: threading.Thread | None = None
        self._worker: dramatiq.Worker | None = None

    def start(self) -> None:
        """Connect the streams, announce this agent, and start consuming (waits for the controller)."""
        endpoints = self._wait_for_controller()
        self._events = EventStream(self._ctx, endpoints["events_endpoint"])
        self._control = ControlListener(self._ctx, endpoints["control_endpoint"], self._on_control)
        self._control.start()
        self._send_heartbeat()
        self._heartbeat = threading.Thread(target=self._heartbeat_loop, name="heartbeat", daemon=True)
        self._heartbeat.start()
        queues = task_queues(self.sizes)
        for priority in PRIORITIES:
            dramatiq.actor(
                self._run_task,
                broker=self.broker,
                actor_name=run_task_actor(priority),
                queue_name=queues[0],
                priority=ACTOR_PRIORITY[priority],
                max_retries=1000,
                min_backoff=1000,
                max_backoff=60_000,
            )
        self._worker = dramatiq.Worker(
            self.broker,
            queues=set(queues),
            worker_threads=self.settings.effective_slots,
            worker_timeout=100,
        )
        self._worker.start()
        logger.info("agent=%s started with %d slots, serving %s", self.settings.agent_id,
                    self.settings.effective_slots, ", ".join(self.sizes) or "nothing (host below every preset)")

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
        result = self._execute(message)
        if self._stopping.is_set() and result.status == "cancelled":
            # Shutting down, not cancelled by the user: let the broker hand the attempt to another agent.
            raise RuntimeError(f"agent stopping; task={message.task_id} goes back to the broker")
        send_result(self.broker, result)

    def _execute(self, message: TaskMessage) -> TaskResult:
        started = time.time()
        try:
            tree = self.cache.ensure(message.revision_hash)
        except (httpx.HTTPError, OSError) as exc:
            logger.warning("task=%s could not fetch revision %s: %s", message.task_id, message.revision_hash, exc)
            return _result(
                message,
                self.settings.agent_id,
                RunOutcome(
                    "failed",
                    None,
                    None,
                    f"could not prepare the project revision: {exc}",
                    "runtime_error",
                    "",
                    started,
                    time.time(),
                ),
                counts=False,
            )
        scratch = self.settings.cache_dir / "tasks" / f"{message.task_id}-{message.attempt}"
        run = Run(
            RunSpec(
                command=message.command,
                cwd=tree / message.workdir,
                scratch=scratch,
                payload=message.payload,
                timeout_s=message.timeout_s,
                env=self._task_env(message),
            ),
            on_output=self._output_sender(message),
            on_progress=self._progress_sender(message),
            kill_grace_s=self.settings.kill_grace_s,
        )
        with self._runs_lock:
            self._runs[message.task_id] = (message.job_id, run)
        try:
            outcome = run.execute()
        finally:
            with self._runs_lock:
                self._runs.pop(message.task_id, None)
            shutil.rmtree(scratch, ignore_errors=True)
        logger.info("task=%s attempt=%s %s", message.task_id, message.attempt, outcome.status)
        return _result(message, self.settings.agent_id, outcome)

    def _task_env(self, message: TaskMessage) -> dict[str, str]:
        env = {
            "COMPUTALOT_TASK_INDEX": str(message.index),
            "COMPUTALOT_TASK_COUNT": str(message.count),
            "COMPUTALOT_JOB_ID": message.job_id,
            "COMPUTALOT_TASK_ID": message.task_id,
            "COMPUTALOT_ATTEMPT": str(message.attempt),
        }
        if message.checkpointing:
            checkpoints = self.settings.cache_dir / "checkpoints" / message.task_id
            checkpoints.mkdir(parents=True, exist_ok=True)
            env["COMPUTALOT_CHECKPOINT_DIR"] = str(checkpoints)
        return env

    def _output_sender(self, message: TaskMessage):
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

    def _progress_sender(self, message: TaskMessage):
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
            running = tuple(self._runs)
        assert self._events is not None
        self._events.send(
            AgentHeartbeat(
                agent_id=self.settings.agent_id,
                capabilities=self.capabilities,
                slots=self.settings.effective_slots,
                revisions=self.cache.revisions(),
                running_tasks=running,
                sent_at=time.time(),
            )
        )


def _result(message: TaskMessage, agent_id: str, outcome: RunOutcome, counts: bool = True) -> TaskResult:
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
    )
