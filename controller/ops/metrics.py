"""Prometheus metrics of one controller: HTTP, jobs, tasks, queues, agents, billing and live streams.

Each app has its own `CollectorRegistry` (never the global one), so several apps in one process (tests)
do not share counters. Counters and histograms are updated as things happen; states are counted at scrape
time from the database, the broker and the agent roster, so they are never stale.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import peewee as pw
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from broker.statuses import TERMINAL_TASK, JobStatus, TaskStatus
from controller.agents.roster import ROSTER, AgentRoster
from controller.billing import holds, ledger
from controller.core.hooks import Hooks
from controller.core.models import tuples
from controller.core.web import Handler
from controller.jobs.models import Job, Task
from controller.live.feed import EventFeed, FeedEvent
from controller.live.publisher import EventPublisher
from controller.live.setup import FEED, PROBE, PUBLISHER
from controller.ops.probes import BrokerProbe

logger = logging.getLogger(__name__)

#: Buckets of the task duration histogram, in seconds (a task runs from a second to a day).
TASK_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600)
#: Tasks whose start the metrics remember until they end (the oldest are forgotten past this).
_STARTS_KEPT = 100_000


def billing_totals() -> dict[str, float]:
    """Money held for unfinished jobs and settled so far, in USD (reads the database: call it off the event loop)."""
    held, settled = holds.totals_micro()
    return {"held_usd": ledger.usd(held), "settled_usd": ledger.usd(settled)}


def count_by(column: pw.Field, model: type[pw.Model]) -> dict[str, int]:
    """Rows of `model` per value of `column`."""
    rows = model.select(column, pw.fn.COUNT(pw.SQL("*")).alias("n")).group_by(column)
    return {value: n for value, n in tuples(rows)}


class Metrics(Hooks):
    """The app's registry: request and task histograms, and a collector of states read at scrape time.

    A hook: it learns the running parts it reads `after_startup` and times tasks `after_events`.
    """

    def __init__(self) -> None:
        #: what the scrape reads, filled in once the app runs (`after_startup`)
        self.sources = Sources()
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "computalot_http_requests", "HTTP requests answered", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "computalot_http_request_duration_seconds",
            "Time to answer HTTP requests (event streams are counted, not timed)",
            ["method", "route"],
            registry=self.registry,
        )
        self.task_duration = Histogram(
            "computalot_task_duration_seconds",
            "Task attempts from claim to applied result, as the controller saw them",
            ["status"],
            buckets=TASK_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_StateCollector(self.sources))
        self._starts: OrderedDict[str, float] = OrderedDict()

    def observe_request(self, method: str, route: str, status: int, seconds: float | None) -> None:
        self.requests.labels(method, route, str(status)).inc()
        if seconds is not None:
            self.latency.labels(method, route).observe(seconds)

    def after_startup(self, app: web.Application) -> None:
        """Hook: read the app's live parts at each scrape (those it runs without stay None and read 0)."""
        self.sources.probe, self.sources.agents = app.get(PROBE), app.get(ROSTER)
        self.sources.feed, self.sources.publisher = app.get(FEED), app.get(PUBLISHER)

    def after_events(self, events: list[FeedEvent]) -> None:
        """Hook: time the task attempts of each new batch of events."""
        self.observe_events(events)

    def observe_events(self, events: list[FeedEvent]) -> None:
        """Time task attempts from their `running` event to their terminal one."""
        for event in events:
            if event.kind != "task":
                continue
            task_id: str = event.data.get("task_id", "")
            status = event.data.get("status")
            if status == TaskStatus.RUNNING:
                self._starts[task_id] = event.created_at
                if len(self._starts) > _STARTS_KEPT:
                    self._starts.popitem(last=False)
                continue
            started = self._starts.pop(task_id, None)
            if started is not None and status in TERMINAL_TASK:
                self.task_duration.labels(status).observe(max(0.0, event.created_at - started))

    def render(self) -> bytes:
        """The Prometheus text exposition (reads the database and the broker: call it off the event loop)."""
        return generate_latest(self.registry)


METRICS = web.AppKey("metrics", Metrics)


def route_label(request: web.Request) -> str:
    """The route's canonical path (`/api/v1/jobs/{job_id}`), never the raw path: label values stay few."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count and time every request by method, route and final status (the outermost middleware)."""
    started = time.perf_counter()
    status, streamed = 500, False
    try:
        response = await handler(request)
        status, streamed = response.status, response.content_type == "text/event-stream"
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        metrics = request.app.get(METRICS)
        if metrics is not None:
            seconds = None if streamed else time.perf_counter() - started
            metrics.observe_request(request.method, route_label(request), status, seconds)


@dataclass
class Sources:
    """The running parts a scrape reads; None until the app started them."""

    probe: BrokerProbe | None = None
    agents: AgentRoster | None = None
    feed: EventFeed | None = None
    publisher: EventPublisher | None = None


class _StateCollector:
    """Gauges computed at each scrape."""

    def __init__(self, sources: Sources) -> None:
        self.sources = sources

    def describe(self) -> list[Metric]:
        return []  # nothing is read at registration: the database is not open yet

    def collect(self) -> Iterator[Metric]:
        yield from _states("computalot_jobs", "Jobs by status", "status", JobStatus, count_by(Job.status, Job))
        yield from _states("computalot_tasks", "Tasks by status", "status", TaskStatus, count_by(Task.status, Task))
        yield from self._queues()
        yield from self._agents()
        yield from self._live()
        money = billing_totals()
        yield GaugeMetricFamily("computalot_billing_held_usd", "Money held for unfinished jobs", money["held_usd"])
        yield GaugeMetricFamily("computalot_billing_settled_usd", "Money settled so far", money["settled_usd"])

    def _queues(self) -> Iterator[Metric]:
        gauge = GaugeMetricFamily(
            "computalot_queue_depth", "Messages waiting in the broker per queue", labels=["queue"]
        )
        probe = self.sources.probe
        for queue, depth in (probe.depths() if probe is not None else {}).items():
            gauge.add_metric([queue], depth)
        yield gauge

    def _agents(self) -> Iterator[Metric]:
        agents = self.sources.agents.live() if self.sources.agents is not None else []
        yield GaugeMetricFamily("computalot_agents_live", "Agents whose heartbeat is current", len(agents))
        families: dict[str, Any] = {
            "slots": GaugeMetricFamily("computalot_agent_slots", "Task slots of the agent", labels=["agent"]),
            "slots_busy": GaugeMetricFamily("computalot_agent_slots_busy", "Slots running a task", labels=["agent"]),
            "tasks_run": CounterMetricFamily("computalot_agent_tasks", "Task attempts the agent ran", labels=["agent"]),
            "tasks_failed": CounterMetricFamily(
                "computalot_agent_task_failures", "Task attempts that did not complete", labels=["agent"]
            ),
            "task_seconds": CounterMetricFamily(
                "computalot_agent_task_seconds", "Seconds the agent spent running tasks", labels=["agent"]
            ),
        }
        for beat in agents:
            for field, family in families.items():
                family.add_metric([beat.agent_id], getattr(beat, field))
        yield from families.values()

    def _live(self) -> Iterator[Metric]:
        feed, publisher = self.sources.feed, self.sources.publisher
        yield GaugeMetricFamily("computalot_event_streams", "Open SSE streams", feed.subscriptions if feed else 0)
        yield GaugeMetricFamily("computalot_event_seq", "Highest event sequence handed out", feed.cursor if feed else 0)
        yield CounterMetricFamily(
            "computalot_events_published", "Events published on ZeroMQ", publisher.published if publisher else 0
        )


def _states(name: str, doc: str, label: str, known: Iterable[str], counts: dict[str, int]) -> Iterator[Metric]:
    """One gauge per state, every known state present (0 when none)."""
    gauge = GaugeMetricFamily(name, doc, labels=[label])
    for state in sorted({str(s) for s in known} | set(counts)):
        gauge.add_metric([state], counts.get(state, 0))
    yield gauge
