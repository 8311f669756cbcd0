"""Hooks: observers of the controller's events, in the shape of Dramatiq's middleware.

`Hooks` is a base class of no-op methods, one per event; a hook overrides the ones it needs. `HookEmitter`
holds the hooks of one app and calls each in turn: a hook that raises is logged and the others still run,
so an observer can never break the write, the feed or the result that told it. Hooks observe; they never
move money (holds and settlements are written in the transaction that changes the job).

Each method runs on the thread its event happens on (named in its docstring): keep it quick and never
block; a hook that needs the event loop hands its work over with `loop.call_soon_threadsafe`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:  # annotations only: core sits below the domains that define these types
    from controller.jobs.outcomes import Applied
    from controller.live.feed import FeedEvent

logger = logging.getLogger(__name__)


class Hooks:
    """The controller's events, as methods that do nothing; subclass and override the ones you need."""

    def after_startup(self, app: web.Application) -> None:
        """On the event loop, once every part of `app` (database, broker, loops, live side) has started."""

    def after_commit(self) -> None:
        """On the database writer thread, after each committed write transaction."""

    def after_events(self, events: list[FeedEvent]) -> None:
        """On the event loop, with each batch of new event-log rows the feed read, oldest first."""

    def after_applied(self, applied: Applied) -> None:
        """On a results-worker thread, after the transaction that applied a task result committed."""


class HookEmitter(Hooks):
    """The hooks of one app, called for each event; a hook's failure is logged, never raised."""

    def __init__(self, hooks: Iterable[Hooks] = ()) -> None:
        self.hooks: list[Hooks] = list(hooks)

    def add(self, hook: Hooks) -> None:
        """Call `hook` for every event from now on, after the hooks added before it.

        In the order added, not Dramatiq's reverse order for `after_*`: that mirrors `before_*` hooks, and
        these events have none.
        """
        self.hooks.append(hook)

    def after_startup(self, app: web.Application) -> None:
        self._emit("after_startup", app)

    def after_commit(self) -> None:
        self._emit("after_commit")

    def after_events(self, events: list[FeedEvent]) -> None:
        self._emit("after_events", events)

    def after_applied(self, applied: Applied) -> None:
        self._emit("after_applied", applied)

    def _emit(self, method: str, *args: Any) -> None:
        # A copy: hooks are added on the event loop while the writer and results threads emit.
        for hook in tuple(self.hooks):
            try:
                getattr(hook, method)(*args)
            except Exception:
                logger.exception("hook %s.%s failed (%r)", type(hook).__name__, method, hook)


#: the app's hooks (metrics, feed, publisher, dispatcher and callback wake-ups)
HOOKS = web.AppKey("hooks", HookEmitter)
