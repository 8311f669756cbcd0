"""The agent's ZeroMQ side: events to the controller (PUSH), control from it (SUB)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import zmq

from broker.errors import DecodeError
from broker.messages import Control, Message, decode, encode

logger = logging.getLogger(__name__)

#: Frames queued per socket before new ones are dropped (live feedback is best effort).
HIGH_WATER_MARK = 10_000


class EventStream:
    """A PUSH socket shared by task threads; sends never block the task."""

    def __init__(self, ctx: zmq.Context, endpoint: str) -> None:
        self._socket = ctx.socket(zmq.PUSH)
        self._socket.setsockopt(zmq.SNDHWM, HIGH_WATER_MARK)
        self._socket.setsockopt(zmq.LINGER, 1000)
        self._socket.connect(endpoint)
        self._lock = threading.Lock()  # zmq sockets are not thread-safe

    def send(self, message: Message) -> None:
        with self._lock:
            try:
                self._socket.send(encode(message), zmq.NOBLOCK)
            except zmq.Again:
                logger.debug("event stream full; dropping a %s frame", message.kind)

    def close(self) -> None:
        with self._lock:
            self._socket.close()


class ControlListener(threading.Thread):
    """Receives control messages (e.g. cancel) and hands them to `on_control`."""

    def __init__(self, ctx: zmq.Context, endpoint: str, on_control: Callable[[Control], None]) -> None:
        super().__init__(name="control-listener", daemon=True)
        self._socket = ctx.socket(zmq.SUB)
        self._socket.setsockopt(zmq.SUBSCRIBE, b"")
        self._socket.setsockopt(zmq.RCVTIMEO, 200)
        self._socket.connect(endpoint)
        self._on_control = on_control
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.is_set():
            try:
                _topic, raw = self._socket.recv_multipart()
            except zmq.Again:
                continue
            try:
                message = decode(raw)
            except DecodeError as exc:
                logger.warning("dropping undecodable control frame: %s", exc)
                continue
            if isinstance(message, Control):
                self._on_control(message)
        self._socket.close()

    def stop(self) -> None:
        self._stopped.set()
