"""Live agents, as told by their heartbeats (in memory: agents re-announce themselves every few seconds)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from broker.messages import AgentHeartbeat, Capabilities
from broker.queues import SIZES, sizes_served


@dataclass
class AgentState:
    heartbeat: AgentHeartbeat
    seen_at: float


class AgentRoster:
    """Which agents are alive and what they offer."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._agents: dict[str, AgentState] = {}
        self.started_at = time.monotonic()

    def update(self, heartbeat: AgentHeartbeat, now: float | None = None) -> None:
        self._agents[heartbeat.agent_id] = AgentState(heartbeat, time.monotonic() if now is None else now)

    def live(self, now: float | None = None) -> list[AgentHeartbeat]:
        now = time.monotonic() if now is None else now
        return [s.heartbeat for s in self._agents.values() if now - s.seen_at <= self.ttl_s]

    def is_live(self, agent_id: str, now: float | None = None) -> bool:
        state = self._agents.get(agent_id)
        now = time.monotonic() if now is None else now
        return state is not None and now - state.seen_at <= self.ttl_s

    def is_running(self, agent_id: str, task_id: str) -> bool:
        """Whether a live agent reported `task_id` among its running tasks."""
        return self.is_live(agent_id) and task_id in self._agents[agent_id].heartbeat.running_tasks

    def has_history(self, now: float | None = None) -> bool:
        """Whether this controller has been up long enough to judge agents lost."""
        now = time.monotonic() if now is None else now
        return now - self.started_at > self.ttl_s

    def capable(self, runtime: str, size: str, recipe: str = "") -> list[AgentHeartbeat]:
        """Live agents that can run `runtime` tasks of capacity class `size` (and `recipe`, if given)."""
        return [a for a in self.live() if _serves(a.capabilities, runtime, size, recipe)]

    def recipe_capable(self, recipe: str, features: tuple[str, ...] = ()) -> list[AgentHeartbeat]:
        """Live agents offering `recipe` and every one of `features`."""
        return [
            a for a in self.live() if recipe in a.capabilities.recipes and set(features) <= set(a.capabilities.features)
        ]

    def summary(self) -> list[dict[str, Any]]:
        """What live agents offer, for `no_capable_workers` details (no hosts or ids)."""
        return [
            {
                "presets": list(sizes_served(a.capabilities)),
                "profiles": list(a.capabilities.profiles),
                "runtimes": list(a.capabilities.runtimes),
                "recipes": list(a.capabilities.recipes),
                "features": list(a.capabilities.features),
                "cpu": a.capabilities.cpu,
                "memory_mb": a.capabilities.memory_mb,
                "gpu_count": a.capabilities.gpu_count,
            }
            for a in self.live()
        ]


#: the app's roster (built by the app's runtime context)
ROSTER = web.AppKey("roster", AgentRoster)


def _serves(caps: Capabilities, runtime: str, size: str, recipe: str) -> bool:
    if size not in SIZES or not SIZES[size].served_by(caps) or runtime not in caps.runtimes:
        return False
    return not recipe or recipe in caps.recipes
