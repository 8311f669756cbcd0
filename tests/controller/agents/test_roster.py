"""Tests of controller.agents.roster: which agents are alive and what they offer, judged at explicit times."""

from __future__ import annotations

import time

from broker.messages import AgentHeartbeat, Capabilities
from controller.agents.roster import AgentRoster

TTL = 8.0


def heartbeat(agent_id: str, **caps: object) -> AgentHeartbeat:
    return AgentHeartbeat(agent_id=agent_id, capabilities=Capabilities(**caps), running_tasks=("task_1",))


def test_an_agent_is_live_until_its_ttl_has_passed() -> None:
    # Given an agent heard at t=100 with an 8 s TTL
    roster = AgentRoster(ttl_s=TTL)
    roster.update(heartbeat("a1"), now=100.0)

    # When asked at several times
    # Then it is live up to and including t=108, and gone after
    assert roster.is_live("a1", now=100.0)
    assert roster.is_live("a1", now=108.0)
    assert not roster.is_live("a1", now=108.01)
    assert [h.agent_id for h in roster.live(now=108.0)] == ["a1"]
    assert roster.live(now=108.01) == []


def test_a_new_heartbeat_renews_liveness_and_replaces_the_old_one() -> None:
    # Given an agent heard twice, the second time with more slots
    roster = AgentRoster(ttl_s=TTL)
    roster.update(heartbeat("a1"), now=100.0)
    roster.update(AgentHeartbeat(agent_id="a1", capabilities=Capabilities(), slots=4), now=105.0)

    # When asked after the first would have expired
    live = roster.live(now=112.0)

    # Then it is one live agent with the latest report
    assert [(h.agent_id, h.slots) for h in live] == [("a1", 4)]


def test_an_unknown_agent_is_not_live() -> None:
    # Given an empty roster, Then no agent is live
    roster = AgentRoster(ttl_s=TTL)
    assert not roster.is_live("ghost", now=0.0)
    assert roster.live(now=0.0) == []


def test_is_running_needs_a_live_agent_that_reported_the_task() -> None:
    # Given a live agent running task_1, and a stale agent that also reported task_1
    roster = AgentRoster(ttl_s=TTL)
    roster.update(heartbeat("fresh"), now=time.monotonic())
    roster.update(heartbeat("stale"), now=time.monotonic() - TTL - 60)

    # Then only the live agent counts as running it, and only that task
    assert roster.is_running("fresh", "task_1")
    assert not roster.is_running("fresh", "task_2")
    assert not roster.is_running("stale", "task_1")
    assert not roster.is_running("ghost", "task_1")


def test_capable_filters_live_agents_by_runtime_size_and_recipe() -> None:
    # Given agents with different offers, one of them stale
    roster = AgentRoster(ttl_s=TTL)
    now = time.monotonic()
    roster.update(heartbeat("cpu", cpu=2, memory_mb=4096, profiles=("cpu",), runtimes=("process",)), now=now)
    roster.update(
        heartbeat(
            "gpu",
            cpu=16,
            memory_mb=65536,
            gpu_count=1,
            gpu_memory_mb=24576,
            profiles=("cpu", "gpu"),
            runtimes=("process", "oci"),
            recipes=("packing",),
        ),
        now=now,
    )
    roster.update(
        heartbeat("old-gpu", cpu=16, memory_mb=65536, gpu_count=1, gpu_memory_mb=24576, profiles=("gpu",)),
        now=now - TTL - 60,
    )

    def ids(runtime: str, size: str, recipe: str = "") -> list[str]:
        return sorted(h.agent_id for h in roster.capable(runtime, size, recipe))

    # Then each query finds the live agents offering all that was asked
    assert ids("process", "cpu-small") == ["cpu", "gpu"]
    assert ids("process", "cpu-large") == ["gpu"]
    assert ids("process", "gpu-small") == ["gpu"]
    assert ids("oci", "cpu-small") == ["gpu"]
    assert ids("process", "cpu-small", "packing") == ["gpu"]
    assert ids("process", "cpu-small", "unknown-recipe") == []
    assert ids("wasm", "cpu-small") == []


def test_capable_needs_every_minimum_of_the_size() -> None:
    # Given a GPU agent with too little GPU memory for gpu-large, and too little host memory for cpu-large
    roster = AgentRoster(ttl_s=TTL)
    roster.update(
        heartbeat("a", cpu=32, memory_mb=16384, gpu_count=1, gpu_memory_mb=40000, profiles=("cpu", "gpu")),
        now=time.monotonic(),
    )

    # Then it serves the small sizes only
    assert [h.agent_id for h in roster.capable("process", "gpu-small")] == ["a"]
    assert [h.agent_id for h in roster.capable("process", "cpu-small")] == ["a"]
    assert roster.capable("process", "gpu-large") == []
    assert roster.capable("process", "cpu-large") == []


def test_capable_finds_no_one_for_an_unknown_size() -> None:
    # Given a generous live agent
    roster = AgentRoster(ttl_s=TTL)
    roster.update(heartbeat("a", cpu=64, memory_mb=262144, profiles=("cpu",)), now=time.monotonic())

    # When asked for a bare profile or an unknown class, Then no agent is capable (and nothing raises)
    assert roster.capable("process", "cpu") == []
    assert roster.capable("process", "tpu-huge") == []


def test_summary_describes_offers_without_agent_ids_or_hosts() -> None:
    # Given a live agent whose id contains its host name
    roster = AgentRoster(ttl_s=TTL)
    roster.update(
        heartbeat(
            "agent-on-gpu07.internal",
            cpu=16,
            memory_mb=64000,
            gpu_count=2,
            gpu_memory_mb=24576,
            profiles=("gpu",),
            recipes=("r",),
        ),
        now=time.monotonic(),
    )

    # When summarised for a no_capable_workers answer
    summary = roster.summary()

    # Then it lists what is offered, including the presets it serves, and nothing that identifies the agent
    assert summary == [
        {
            "presets": ["gpu-small"],
            "profiles": ["gpu"],
            "runtimes": ["process"],
            "recipes": ["r"],
            "features": [],
            "cpu": 16,
            "memory_mb": 64000,
            "gpu_count": 2,
        }
    ]
    assert "gpu07" not in repr(summary)


def test_recipe_capable_needs_the_recipe_and_every_feature() -> None:
    # Given live agents offering a recipe with and without a host feature, and a stale one with both
    roster = AgentRoster(ttl_s=TTL)
    now = time.monotonic()
    roster.update(heartbeat("plain", recipes=("amm",)), now=now)
    roster.update(heartbeat("rusty", recipes=("amm", "other"), features=("cargo", "llvm")), now=now)
    roster.update(heartbeat("old", recipes=("amm",), features=("cargo",)), now=now - TTL - 60)

    def ids(recipe: str, features: tuple[str, ...] = ()) -> list[str]:
        return sorted(h.agent_id for h in roster.recipe_capable(recipe, features))

    # Then only live agents with the recipe and all the features are capable
    assert ids("amm") == ["plain", "rusty"]
    assert ids("amm", ("cargo",)) == ["rusty"]
    assert ids("amm", ("cargo", "llvm")) == ["rusty"]
    assert ids("amm", ("cargo", "gcc")) == []
    assert ids("packing") == []


def test_summary_lists_no_presets_for_an_agent_too_small_for_any() -> None:
    # Given a live agent below cpu-small's memory
    roster = AgentRoster(ttl_s=TTL)
    roster.update(heartbeat("tiny", cpu=1, memory_mb=512), now=time.monotonic())

    # Then its summary says it serves no preset
    assert roster.summary()[0]["presets"] == []


def test_summary_leaves_out_stale_agents() -> None:
    # Given only a stale agent, Then the summary is empty
    roster = AgentRoster(ttl_s=TTL)
    roster.update(heartbeat("old"), now=time.monotonic() - TTL - 60)
    assert roster.summary() == []


def test_has_history_only_after_one_ttl_of_uptime() -> None:
    # Given a roster that started at started_at
    roster = AgentRoster(ttl_s=TTL)
    start = roster.started_at

    # Then it cannot judge agents lost until more than one TTL has passed
    assert not roster.has_history(now=start)
    assert not roster.has_history(now=start + TTL)
    assert roster.has_history(now=start + TTL + 0.01)
