"""Requeues the tasks that their agent no longer runs (a lost attempt does not spend the job's retries)."""

from __future__ import annotations

import logging
import time

from controller.agents.roster import AgentRoster
from controller.core.background import BackgroundLoop
from controller.core.db import Store
from controller.jobs import outcomes
from controller.jobs.dispatcher import Dispatcher

logger = logging.getLogger(__name__)


class Reaper(BackgroundLoop):
    """Every half agent-TTL: running tasks that their agent no longer reports go back to the queue as a free retry."""

    def __init__(self, store: Store, roster: AgentRoster, dispatcher: Dispatcher) -> None:
        super().__init__()
        self.store, self.roster, self.dispatcher = store, roster, dispatcher
        self.interval_s = roster.ttl_s / 2

    async def run_once(self) -> bool:
        # Right after a restart every agent looks gone until it heartbeats again: wait one TTL first.
        if not self.roster.has_history():
            return False
        cutoff = time.time() - self.roster.ttl_s
        requeued = await self.store.write(outcomes.reap_lost_tasks, self.roster.is_running, cutoff)
        if requeued:
            logger.warning("requeued %d tasks of lost agents", len(requeued))
            self.dispatcher.wake()
        return False
