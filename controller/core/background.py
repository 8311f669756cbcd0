"""A background loop owned by the application: started and stopped in `cleanup_ctx`, woken early on demand."""

from __future__ import annotations

import asyncio
import contextlib
import logging

logger = logging.getLogger(__name__)


class BackgroundLoop:
    """Calls `run_once` forever: again at once while it reports more work, else after `interval_s` or `wake()`."""

    interval_s = 1.0

    def __init__(self) -> None:
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._event_loop: asyncio.AbstractEventLoop | None = None

    async def run_once(self) -> bool:
        """One round of work; True when more is waiting."""
        raise NotImplementedError

    def wake(self) -> None:
        self._wake.set()

    def wake_threadsafe(self) -> None:
        """`wake()` from any thread (a hook on the writer or results thread); nothing before `start()`."""
        loop = self._event_loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed between the check and the call
                loop.call_soon_threadsafe(self.wake)

    def start(self) -> None:
        self._event_loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._loop(), name=type(self).__name__)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            try:
                more = await self.run_once()
            except Exception:
                logger.exception("%s failed; retrying shortly", type(self).__name__)
                more = False
            if not more:
                await wait_or_timeout(self._wake, self.interval_s)
                self._wake.clear()


async def wait_or_timeout(event: asyncio.Event, timeout_s: float) -> bool:
    """Wait for `event` at most `timeout_s`; whether it was set.

    `asyncio.timeout`, not `asyncio.wait_for`: on Python 3.11 `wait_for` can swallow a cancellation that
    lands just as the event is set, and a loop built on it then never stops.
    """
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout_s):
            await event.wait()
    return event.is_set()
