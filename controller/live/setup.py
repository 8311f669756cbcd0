"""Wiring of the live side of a controller: event feed, ZeroMQ publisher, broker probe and metrics sources."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from controller.core.web import BROKER, SETTINGS, STORE
from controller.live.feed import EventFeed
from controller.live.publisher import EventPublisher
from controller.ops.metrics import METRICS
from controller.ops.probes import BrokerProbe

logger = logging.getLogger(__name__)

FEED = web.AppKey("feed", EventFeed)
PUBLISHER = web.AppKey("publisher", EventPublisher)
PROBE = web.AppKey("broker_probe", BrokerProbe)


def setup(app: web.Application) -> None:
    """Start the live side with the app (after database, broker and runtime) and end open streams on shutdown."""
    app.cleanup_ctx.append(_live)
    app.on_shutdown.append(_close_streams)


async def _live(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    feed = EventFeed(app[STORE])
    publisher = EventPublisher(settings.zmq_publish_host, settings.zmq_publish_port)
    probe = BrokerProbe(app[BROKER])
    feed.add_listener(publisher.publish)
    metrics = app.get(METRICS)
    if metrics is not None:
        feed.add_listener(metrics.observe_events)
        metrics.sources.feed, metrics.sources.publisher, metrics.sources.probe = feed, publisher, probe
    await feed.start()
    app[FEED], app[PUBLISHER], app[PROBE] = feed, publisher, probe
    logger.info("publishing events on %s", publisher.endpoint)
    try:
        yield
    finally:
        await feed.stop()
        publisher.close()
        probe.close()


async def _close_streams(app: web.Application) -> None:
    feed = app.get(FEED)
    if feed is not None:
        feed.close_subscriptions()
