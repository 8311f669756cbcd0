"""Agent task metrics ride in the heartbeat: older heartbeats decode with zeros, and the agent counts outcomes."""

from __future__ import annotations

from agent.metrics import TaskStats
from broker.messages import AgentHeartbeat, Capabilities, TaskResult, decode, encode, from_dict, to_dict


def test_a_heartbeat_without_task_metrics_decodes_with_zeros() -> None:
    # Given a heartbeat as an agent from before the task metrics sends it
    data = to_dict(AgentHeartbeat(agent_id="a", capabilities=Capabilities()))
    for name in ("tasks_run", "tasks_failed", "task_seconds", "slots_busy"):
        del data[name]

    # When it is decoded, Then the metrics read zero
    beat = from_dict(data)
    assert (beat.tasks_run, beat.tasks_failed, beat.task_seconds, beat.slots_busy) == (0, 0, 0.0, 0)


def test_task_metrics_survive_the_wire() -> None:
    beat = AgentHeartbeat(
        agent_id="a", capabilities=Capabilities(), tasks_run=3, tasks_failed=1, task_seconds=4.5, slots_busy=2
    )
    assert decode(encode(beat)) == beat


def test_the_agent_counts_finished_attempts_failures_and_seconds() -> None:
    # Given two finished attempts, one of them failed
    stats = TaskStats()
    stats.record(TaskResult("j", "t1", 1, "completed", started_at=10.0, finished_at=12.5))
    stats.record(TaskResult("j", "t2", 1, "failed", started_at=20.0, finished_at=21.0))
    # And one that never started its command
    stats.record(TaskResult("j", "t3", 1, "failed"))

    # Then the heartbeat fields count all three, two failures, and the seconds that ran
    assert stats.snapshot() == {"tasks_run": 3, "tasks_failed": 2, "task_seconds": 3.5}
