"""Every event of the log, published on a ZeroMQ PUB socket for progress subscribers.

Frames: `[topic, body]`. The topic is `<account_id>/<job_id>` (`<account_id>/` for events of no job, such as
a project push) as UTF-8 bytes, so a SUB socket filters by prefix: `acc_x/` for an account, `acc_x/job_y` for
one job. The body is msgpack of `{seq, kind, job_id, data, created_at}`, the same map SSE sends as `data`.

PUB has no authentication: whoever reaches the socket can subscribe to any prefix. It binds to loopback by
default; to offer it beyond the host, put CURVE or an authenticating proxy in front of it.
"""

from __future__ import annotations

import logging

import msgpack
import zmq

from controller.core.hooks import Hooks
from controller.live.feed import FeedEvent

logger = logging.getLogger(__name__)

#: Frames queued per subscriber before ZeroMQ drops new ones for it (a slow subscriber loses, the rest don't).
HIGH_WATER_MARK = 100_000


def topic(account_id: str, job_id: str | None) -> bytes:
    """The topic frame of an event: `<account_id>/<job_id>`."""
    return f"{account_id}/{job_id or ''}".encode()


def encode_event(event: FeedEvent) -> bytes:
    """The body frame of an event."""
    return msgpack.packb(event.public(), use_bin_type=True)


class EventPublisher(Hooks):
    """The PUB socket; `publish` never blocks (it runs on the event loop)."""

    def __init__(self, host: str, port: int) -> None:
        self._ctx = zmq.Context()
        self._socket = self._ctx.socket(zmq.PUB)
        self._socket.setsockopt(zmq.SNDHWM, HIGH_WATER_MARK)
        self._socket.setsockopt(zmq.LINGER, 0)
        if port:
            self._socket.bind(f"tcp://{host}:{port}")
        else:
            port = self._socket.bind_to_random_port(f"tcp://{host}")
        self.endpoint = f"tcp://{host}:{port}"
        self.published = 0
        self.dropped = 0

    def after_events(self, events: list[FeedEvent]) -> None:
        """Hook: publish each new batch of the feed."""
        self.publish(events)

    def publish(self, events: list[FeedEvent]) -> None:
        for event in events:
            try:
                self._socket.send_multipart([topic(event.account_id, event.job_id), encode_event(event)], zmq.NOBLOCK)
                self.published += 1
            except zmq.Again:
                self.dropped += 1

    def close(self) -> None:
        self._socket.close(linger=0)
        self._ctx.term()
