"""Tests of the broker contract: wire messages, queue names, broker construction and the msgpack encoder."""

from __future__ import annotations

import dataclasses
from typing import Any

import dramatiq
import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from broker.connection import connect, default_middleware, is_memory
from broker.encoder import MsgpackEncoder
from broker.errors import BrokerConfigError, DecodeError
from broker.messages import (
    WIRE_VERSION,
    AgentHeartbeat,
    Capabilities,
    Control,
    TaskMessage,
    TaskOutput,
    TaskProgress,
    TaskResult,
    decode,
    encode,
    from_dict,
    to_dict,
)
from broker.queues import (
    APPLY_RESULT,
    PRIORITIES,
    RESULTS_QUEUE,
    run_task_actor,
    task_queue,
    task_queues,
)
from broker.transport import result_from_args, send_result, send_task, task_from_args

text = st.text(st.characters(codec="utf-8"), max_size=20)
ints = st.integers(min_value=-(2**63), max_value=2**64 - 1)
floats = st.floats(allow_nan=False)
json_like = st.recursive(
    st.none() | st.booleans() | ints | floats | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)
names = st.lists(text, max_size=4).map(tuple)

capabilities = st.builds(
    Capabilities,
    cpu=ints,
    memory_mb=ints,
    gpu_count=ints,
    gpu_memory_mb=ints,
    storage_gb=ints,
    profiles=names,
    runtimes=names,
    recipes=names,
)

MESSAGES = {
    "task": st.builds(
        TaskMessage,
        job_id=text,
        task_id=text,
        attempt=ints,
        index=ints,
        count=ints,
        payload=st.dictionaries(text, json_like, max_size=4),
        timeout_s=ints,
        command=names,
        runtime=text,
        revision_hash=text,
        workdir=text,
        recipe=text,
        checkpointing=st.booleans(),
    ),
    "result": st.builds(
        TaskResult,
        job_id=text,
        task_id=text,
        attempt=ints,
        status=st.sampled_from(["completed", "failed", "cancelled"]),
        agent_id=text,
        exit_code=st.none() | ints,
        result=json_like,
        error=text,
        error_code=text,
        output_tail=text,
        started_at=floats,
        finished_at=floats,
        counts_as_attempt=st.booleans(),
    ),
    "output": st.builds(
        TaskOutput,
        job_id=text,
        task_id=text,
        attempt=ints,
        seq=ints,
        lines=names,
        stream=st.sampled_from(["stdout", "stderr"]),
    ),
    "progress": st.builds(
        TaskProgress, job_id=text, task_id=text, attempt=ints, seq=ints, progress=st.dictionaries(text, json_like)
    ),
    "heartbeat": st.builds(
        AgentHeartbeat,
        agent_id=text,
        capabilities=capabilities,
        slots=ints,
        revisions=names,
        running_tasks=names,
        sent_at=floats,
    ),
    "control": st.builds(Control, action=text, job_id=text),
}


# --- messages ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(MESSAGES))
@given(data=st.data())
def test_every_message_kind_round_trips_through_encode_and_decode(kind: str, data: Any) -> None:
    # Given any message of this kind
    message = data.draw(MESSAGES[kind])

    # When encoded to bytes and decoded
    decoded = decode(encode(message))

    # Then it is the same message, of the same class, with its kind on the wire
    assert decoded == message
    assert type(decoded) is type(message)
    assert msgpack.unpackb(encode(message), raw=False)["kind"] == kind


def test_the_message_kinds_are_the_published_ones() -> None:
    # Given the message classes, Then their wire kinds are distinct and stable
    kinds = [cls.kind for cls in (TaskMessage, TaskResult, TaskOutput, TaskProgress, AgentHeartbeat, Control)]
    assert kinds == ["task", "result", "output", "progress", "heartbeat", "control"]


def test_every_message_carries_the_wire_version() -> None:
    # Given a new message, When encoded, Then v is the current wire version
    assert msgpack.unpackb(encode(Control(action="cancel", job_id="j")), raw=False)["v"] == WIRE_VERSION


def test_lists_in_a_result_stay_lists_and_tuples_fields_stay_tuples() -> None:
    # Given a result holding lists, and a task with a command
    result = TaskResult(job_id="j", task_id="t", attempt=1, status="completed", result=[1, [2, 3], {"a": [4]}])
    task = TaskMessage(
        job_id="j", task_id="t", attempt=1, index=0, count=1, payload={"m": [1, 2]}, timeout_s=5, command=("a", "b")
    )

    # When they cross the wire
    got_result, got_task = decode(encode(result)), decode(encode(task))

    # Then JSON-like values keep their lists, and tuple fields are tuples again
    assert got_result.result == [1, [2, 3], {"a": [4]}]
    assert type(got_result.result) is list
    assert got_task.payload == {"m": [1, 2]}
    assert got_task.command == ("a", "b")


def test_a_heartbeat_decodes_its_nested_capabilities() -> None:
    # Given a heartbeat with GPU capabilities
    heartbeat = AgentHeartbeat(agent_id="a", capabilities=Capabilities(gpu_count=2, profiles=("cpu", "gpu")))

    # When it crosses the wire
    decoded = decode(encode(heartbeat))

    # Then the capabilities are a Capabilities again, with tuples
    assert isinstance(decoded.capabilities, Capabilities)
    assert decoded.capabilities.profiles == ("cpu", "gpu")


def test_unknown_keys_are_ignored() -> None:
    # Given a message written by a newer version, with extra keys, also inside capabilities
    data = to_dict(AgentHeartbeat(agent_id="a", capabilities=Capabilities(cpu=4)))
    data["zone"] = "eu-1"
    data["capabilities"]["tpu_count"] = 8
    data["v"] = 2

    # When decoded
    decoded = decode(msgpack.packb(data, use_bin_type=True))

    # Then the known fields are read and the rest ignored
    assert decoded == AgentHeartbeat(agent_id="a", capabilities=Capabilities(cpu=4), v=2)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            {
                "kind": "task",
                "job_id": "j",
                "task_id": "t",
                "attempt": 1,
                "index": 0,
                "count": 1,
                "payload": {},
                "timeout_s": 9,
            },
            TaskMessage(job_id="j", task_id="t", attempt=1, index=0, count=1, payload={}, timeout_s=9),
        ),
        (
            {"kind": "result", "job_id": "j", "task_id": "t", "attempt": 2, "status": "failed"},
            TaskResult(job_id="j", task_id="t", attempt=2, status="failed"),
        ),
        (
            {"kind": "heartbeat", "agent_id": "a", "capabilities": {}},
            AgentHeartbeat(agent_id="a", capabilities=Capabilities()),
        ),
    ],
)
def test_missing_optional_fields_take_their_defaults(data: dict[str, Any], expected: Any) -> None:
    # Given a message written before the optional fields existed
    # When decoded, Then the defaults fill them in
    decoded = decode(msgpack.packb(data, use_bin_type=True))
    assert decoded == expected
    assert decoded.v == WIRE_VERSION
    if isinstance(decoded, TaskResult):
        assert (decoded.counts_as_attempt, decoded.exit_code, decoded.result) == (True, None, None)


@pytest.mark.parametrize(
    "raw",
    [
        b"\xc1",  # a byte msgpack never uses
        b"\x93\x01",  # an array cut short
        b"\x81\xa4kind",  # a map cut short
        msgpack.packb({"kind": "task"}) + b"\x00",  # trailing bytes
        b"",
    ],
)
def test_garbage_bytes_raise_decode_error_with_the_raw_bytes(raw: bytes) -> None:
    # Given bytes that are not one msgpack message
    # When decoded
    with pytest.raises(DecodeError) as caught:
        decode(raw)

    # Then a DecodeError carries the bytes
    assert caught.value.raw == raw


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"kind": "telemetry", "x": 1}, "unknown message kind"),
        ({"job_id": "j"}, "unknown message kind"),
        ([1, 2, 3], "expected a map"),
        ("task", "expected a map"),
        ({"kind": "task", "job_id": "j"}, "incomplete TaskMessage"),
        ({"kind": "control", "action": "cancel"}, "incomplete Control"),
        ({"kind": "heartbeat", "capabilities": {}}, "incomplete AgentHeartbeat"),
    ],
)
def test_unknown_or_incomplete_messages_raise_decode_error(data: Any, says: str) -> None:
    # Given valid msgpack that is not a complete known message
    raw = msgpack.packb(data, use_bin_type=True)

    # When decoded
    with pytest.raises(DecodeError, match=says) as caught:
        decode(raw)

    # Then the DecodeError says why and carries the bytes
    assert caught.value.raw == raw


@pytest.mark.parametrize("kind", [["task"], {"name": "task"}])
def test_an_unhashable_kind_raises_decode_error(kind: Any) -> None:
    # Given msgpack whose kind is a list or a map (unhashable in Python)
    raw = msgpack.packb({"kind": kind, "job_id": "j"}, use_bin_type=True)

    # When decoded, Then it is a DecodeError like any other unknown kind (not a TypeError)
    with pytest.raises(DecodeError) as caught:
        decode(raw)
    assert caught.value.raw == raw


def test_to_dict_is_plain_data() -> None:
    # Given a heartbeat with nested capabilities and tuples
    data = to_dict(AgentHeartbeat(agent_id="a", capabilities=Capabilities(), revisions=("r1",)))

    # Then its map form has only dicts and lists, and reads back with from_dict
    assert data["capabilities"]["profiles"] == ["cpu"]
    assert data["revisions"] == ["r1"]
    assert from_dict(data) == AgentHeartbeat(agent_id="a", capabilities=Capabilities(), revisions=("r1",))


def test_messages_are_frozen() -> None:
    # Given a message, When a field is assigned, Then it is refused
    with pytest.raises(dataclasses.FrozenInstanceError):
        Control(action="cancel", job_id="j").job_id = "other"  # type: ignore[misc]


# --- queues ------------------------------------------------------------------------------------------------------


@pytest.fixture
def memory_broker() -> Any:
    broker = connect("memory://")
    yield broker
    broker.flush_all()
    broker.close()


def test_connect_memory_declares_the_results_queue_and_every_task_queue(memory_broker: Any) -> None:
    # Given a memory broker, Then every Computalot queue is declared on it
    assert {RESULTS_QUEUE, *task_queues()} <= memory_broker.get_declared_queues()


def test_connect_uses_the_default_middleware_without_time_and_age_limits(memory_broker: Any) -> None:
    # Given the default middleware, Then it leaves out AgeLimit and TimeLimit but keeps Retries
    names = {type(m).__name__ for m in memory_broker.middleware}
    assert "AgeLimit" not in names and "TimeLimit" not in names
    assert "Retries" in names
    assert {type(m).__name__ for m in default_middleware()} == names


@pytest.mark.parametrize(
    "url", ["postgres://admin:hunter2@db.internal:5432/x", "http://u:hunter2@mq.internal/", "hunter2@mq.internal"]
)
def test_an_unsupported_scheme_is_refused_without_echoing_the_url(url: str) -> None:
    # Given a URL with a password and an unsupported scheme
    # When a broker is built from it
    with pytest.raises(BrokerConfigError) as caught:
        connect(url)

    # Then the error names the supported schemes but not the password, host or URL
    message = str(caught.value)
    assert "amqp://" in message and "redis://" in message and "memory://" in message
    assert "hunter2" not in message and "internal" not in message


def test_is_memory_tells_the_embedded_broker() -> None:
    # Given URLs, Then only memory:// is the embedded broker
    assert is_memory("memory://")
    assert not is_memory("redis://localhost:6379/0")


def test_a_sent_task_comes_out_of_its_queue_decodable(memory_broker: Any) -> None:
    # Given a task message with a payload holding lists
    task = TaskMessage(
        job_id="job_1",
        task_id="task_1",
        attempt=2,
        index=3,
        count=4,
        payload={"models": ["a", "b"], "seed": 7},
        timeout_s=60,
        command=("python3", "run.py"),
        checkpointing=True,
    )
    queue = task_queue("gpu-small", "high")

    # When it is sent on the gpu-small/high queue
    send_task(memory_broker, task, queue, priority="high")

    # Then exactly one message waits there, for the high-priority run_task actor, and its argument decodes to the task
    raw = memory_broker.queues[queue].get_nowait()
    assert memory_broker.queues[queue].empty()
    message = dramatiq.Message.decode(raw)
    assert (message.queue_name, message.actor_name) == (queue, "computalot.run_task.high")
    assert message.options["broker_priority"] == 9
    assert task_from_args(message.args[0]) == task


@pytest.mark.parametrize("priority", PRIORITIES)
def test_send_task_names_the_actor_of_its_priority(memory_broker: Any, priority: str) -> None:
    # Given a task sent at a priority
    task = TaskMessage(job_id="j", task_id="t", attempt=1, index=0, count=1, payload={}, timeout_s=1)
    queue = task_queue("cpu-small", priority)
    send_task(memory_broker, task, queue, priority=priority)

    # When the queued message is read
    message = dramatiq.Message.decode(memory_broker.queues[queue].get_nowait())

    # Then its actor is that priority's run_task actor
    assert message.actor_name == run_task_actor(priority)


def test_higher_priorities_get_higher_broker_priorities(memory_broker: Any) -> None:
    # Given one task sent at each priority on its own queue
    task = TaskMessage(job_id="j", task_id="t", attempt=1, index=0, count=1, payload={}, timeout_s=1)
    for priority in PRIORITIES:
        send_task(memory_broker, task, task_queue("cpu-small", priority), priority=priority)

    # When their broker priorities are read, highest job priority first
    levels = [
        dramatiq.Message.decode(memory_broker.queues[task_queue("cpu-small", p)].get_nowait()).options[
            "broker_priority"
        ]
        for p in PRIORITIES
    ]

    # Then they strictly decrease, within RabbitMQ's 0..10
    assert levels == sorted(levels, reverse=True) and len(set(levels)) == len(levels)
    assert all(0 <= level <= 10 for level in levels)


def test_a_sent_result_comes_out_of_the_results_queue_decodable(memory_broker: Any) -> None:
    # Given a task result
    result = TaskResult(job_id="j", task_id="t", attempt=1, status="completed", result=[1, 2], exit_code=0)

    # When it is sent
    send_result(memory_broker, result)

    # Then the results queue holds an apply_result message whose argument decodes to it
    message = dramatiq.Message.decode(memory_broker.queues[RESULTS_QUEUE].get_nowait())
    assert message.actor_name == APPLY_RESULT
    assert result_from_args(message.args[0]) == result


def test_send_task_rejects_an_unknown_priority(memory_broker: Any) -> None:
    # Given an unknown priority, When a task is sent, Then it is refused and nothing is queued
    task = TaskMessage(job_id="j", task_id="t", attempt=1, index=0, count=1, payload={}, timeout_s=1)
    with pytest.raises(ValueError, match="priority"):
        send_task(memory_broker, task, task_queue("cpu-small"), priority="urgent")
    assert memory_broker.queues[task_queue("cpu-small")].empty()


def test_task_from_args_refuses_other_message_kinds() -> None:
    # Given the map form of a result, When read as a task, Then it is refused (and vice versa)
    with pytest.raises(TypeError, match="TaskResult"):
        task_from_args(to_dict(TaskResult(job_id="j", task_id="t", attempt=1, status="failed")))
    with pytest.raises(TypeError, match="Control"):
        result_from_args(to_dict(Control(action="cancel", job_id="j")))


# --- encoder -----------------------------------------------------------------------------------------------------


@given(data=st.dictionaries(text, json_like | st.binary(max_size=20), max_size=5))
def test_the_encoder_round_trips_maps_and_keeps_bytes(data: dict[str, Any]) -> None:
    # Given any map, possibly with bytes values
    encoder = MsgpackEncoder()

    # When encoded and decoded, Then it is unchanged
    assert encoder.decode(encoder.encode(data)) == data


def test_the_encoder_raises_dramatiqs_decode_error_on_garbage() -> None:
    # Given bytes that are not msgpack, When decoded, Then dramatiq's DecodeError carries them
    with pytest.raises(dramatiq.DecodeError) as caught:
        MsgpackEncoder().decode(b"\xc1\xc1")
    assert caught.value.data == b"\xc1\xc1"
