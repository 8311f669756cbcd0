"""A per-client sliding-window rate limit, in memory (one controller process; clients are keyed by IP)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from aiohttp import web

from controller.core.errors import ComputalotError


class RateLimited(ComputalotError):
    code, status = "rate_limited", 429
    recommended_action = "Slow down: retry after details.retry_after_s seconds."


class RateLimiter:
    """At most `limit` events per `window_s` seconds per key."""

    #: keys remembered at most; the least recently used are forgotten first
    MAX_KEYS = 10_000

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window_s, self.clock = limit, window_s, clock
        self._events: dict[str, deque[float]] = {}

    def check(self, key: str) -> None:
        """Count one event of `key`.

        Raises:
          RateLimited: `key` already had `limit` events in the window.
        """
        now = self.clock()
        events = self._events.pop(key, None) or deque()
        while events and events[0] <= now - self.window_s:
            events.popleft()
        self._events[key] = events  # re-inserted: dict order is least recently used first
        if len(events) >= self.limit:
            retry = round(events[0] + self.window_s - now, 1)
            raise RateLimited(
                f"too many requests from this client; retry in {retry} s", details={"retry_after_s": retry}
            )
        events.append(now)
        while len(self._events) > self.MAX_KEYS:
            del self._events[next(iter(self._events))]


def client_key(request: web.Request) -> str:
    """The client's address as the socket sees it (behind a proxy, configure it to pass the real address)."""
    return request.remote or "unknown"
