"""Typed messages crossing process boundaries (Dramatiq payloads and ZeroMQ frames).

Every message is a frozen dataclass with a version field `v`. On the wire it is a
msgpack map with a `kind` key naming the class. New fields get defaults so that a
message written before the field existed still decodes; unknown keys are ignored.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import msgpack

from broker.errors import DecodeError

#: Version written into every message this code produces.
WIRE_VERSION = 1


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What an agent can serve; used to route tasks and to answer `no_capable_workers`."""

    cpu: int = 1
    memory_mb: int = 0
    gpu_count: int = 0
    gpu_memory_mb: int = 0
    storage_gb: int = 0
    profiles: tuple[str, ...] = ("cpu",)
    runtimes: tuple[str, ...] = ("process",)
    recipes: tuple[str, ...] = ()
    #: optional host tools some recipe operations need (e.g. "echidna", "sbf")
    features: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TaskMessage:
    """One attempt of one task, sent by the controller to the task queues."""

    kind: ClassVar[str] = "task"
    job_id: str
    task_id: str
    attempt: int
    index: int
    count: int
    payload: dict[str, Any]
    timeout_s: int
    command: tuple[str, ...] = ()
    runtime: str = "process"
    revision_hash: str = ""
    workdir: str = "."
    recipe: str = ""
    checkpointing: bool = False
    v: int = WIRE_VERSION


@dataclass(frozen=True, slots=True)
class TaskResult:
    """Outcome of one task attempt, sent by an agent to the results queue.

    `status` is a terminal `TaskStatus`: `completed`, `failed` or `cancelled`. `counts_as_attempt`
    is false when the platform failed before the user's command started (such failures are
    retried without spending the job's `max_retries`).
    """

    kind: ClassVar[str] = "result"
    job_id: str
    task_id: str
    attempt: int
    status: str
    agent_id: str = ""
    exit_code: int | None = None
    result: Any = None
    error: str = ""
    error_code: str = ""
    output_tail: str = ""
    started_at: float = 0.0
    finished_at: float = 0.0
    counts_as_attempt: bool = True
    #: files of COMPUTALOT_ARTIFACT_DIR uploaded as artifacts: {id, path, size, sha256} each
    artifacts: tuple[dict[str, Any], ...] = ()
    #: the artifact holding the attempt's full stdout+stderr log, when it was uploaded
    output_artifact: str = ""
    #: the last COMPUTALOT_PROGRESS the attempt reported (live frames are best effort; this one is not)
    progress: dict[str, Any] | None = None
    v: int = WIRE_VERSION


@dataclass(frozen=True, slots=True)
class TaskOutput:
    """Output lines of a running task (ZeroMQ, best effort, `seq` per task attempt)."""

    kind: ClassVar[str] = "output"
    job_id: str
    task_id: str
    attempt: int
    seq: int
    lines: tuple[str, ...]
    stream: str = "stdout"
    v: int = WIRE_VERSION


@dataclass(frozen=True, slots=True)
class TaskProgress:
    """A `COMPUTALOT_PROGRESS:{json}` line of a running task."""

    kind: ClassVar[str] = "progress"
    job_id: str
    task_id: str
    attempt: int
    seq: int
    progress: dict[str, Any]
    v: int = WIRE_VERSION


@dataclass(frozen=True, slots=True)
class AgentHeartbeat:
    """Periodic liveness and capability report of an agent."""

    kind: ClassVar[str] = "heartbeat"
    agent_id: str
    capabilities: Capabilities
    slots: int = 1
    revisions: tuple[str, ...] = ()
    #: task ids this agent is running right now (lets the controller tell a duplicate delivery from a lost agent)
    running_tasks: tuple[str, ...] = ()
    sent_at: float = 0.0
    #: task attempts finished since the agent started (any outcome), those that did not complete, their seconds
    tasks_run: int = 0
    tasks_failed: int = 0
    task_seconds: float = 0.0
    #: slots running a task when the heartbeat was sent
    slots_busy: int = 0
    v: int = WIRE_VERSION


@dataclass(frozen=True, slots=True)
class Control:
    """A control instruction from the controller to every agent (`cancel` a job)."""

    kind: ClassVar[str] = "control"
    action: str
    job_id: str
    v: int = WIRE_VERSION


Message = TaskMessage | TaskResult | TaskOutput | TaskProgress | AgentHeartbeat | Control

_KINDS: dict[str, type] = {
    cls.kind: cls for cls in (TaskMessage, TaskResult, TaskOutput, TaskProgress, AgentHeartbeat, Control)
}

#: Fields holding nested dataclasses, decoded by type.
_NESTED: dict[tuple[type, str], type] = {(AgentHeartbeat, "capabilities"): Capabilities}
_NESTED_FIELDS: dict[type, tuple[str, ...]] = {AgentHeartbeat: ("capabilities",)}
_FIELDS = {cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in _KINDS.values()}
_TUPLE_FIELDS = {
    cls: tuple(f.name for f in dataclasses.fields(cls) if str(f.type).startswith("tuple")) for cls in _KINDS.values()
}


def to_dict(message: Message) -> dict[str, Any]:
    """The plain map form of a message (lists and maps only), with its `kind`."""
    cls = type(message)
    data = {name: getattr(message, name) for name in _FIELDS[cls]}
    for name in _TUPLE_FIELDS[cls]:
        data[name] = list(data[name])
    for name in _NESTED_FIELDS.get(cls, ()):
        data[name] = {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(data[name]).items()}
    data["kind"] = message.kind
    return data


def from_dict(data: dict[str, Any], raw: bytes = b"") -> Message:
    """Build a message from its map form; unknown keys are ignored, missing ones take defaults."""
    if not isinstance(data, dict):
        raise DecodeError(f"expected a map, got {type(data).__name__}", raw)
    kind = data.get("kind")
    cls = _KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise DecodeError(f"unknown message kind {data.get('kind')!r}", raw)
    return _build(cls, data, raw)


def encode(message: Message) -> bytes:
    """msgpack bytes of a message."""
    return msgpack.packb(to_dict(message), use_bin_type=True)


def decode(raw: bytes) -> Message:
    """Decode msgpack bytes produced by `encode`.

    Raises:
      DecodeError: the bytes are not msgpack, or not a known message.
    """
    try:
        data = msgpack.unpackb(raw, raw=False, strict_map_key=False)
    except Exception as exc:  # msgpack raises several unrelated types
        raise DecodeError(f"not msgpack: {exc}", raw) from None
    return from_dict(data, raw)


def _build(cls: type, data: dict[str, Any], raw: bytes) -> Any:
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        nested = _NESTED.get((cls, f.name))
        if nested is not None and isinstance(value, dict):
            value = _build(nested, value, raw)
        elif isinstance(value, list) and str(f.type).startswith("tuple"):
            value = tuple(value)
        kwargs[f.name] = value
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise DecodeError(f"incomplete {cls.__name__}: {exc}", raw) from None


__all__ = [
    "WIRE_VERSION",
    "AgentHeartbeat",
    "Capabilities",
    "Control",
    "Message",
    "TaskMessage",
    "TaskOutput",
    "TaskProgress",
    "TaskResult",
    "decode",
    "encode",
    "from_dict",
    "to_dict",
]
