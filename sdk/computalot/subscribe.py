"""ZeroMQ progress subscribers: every event of an account (or one job) as the controller publishes it.

Needs the `zmq` extra: `pip install 'computalot[zmq]'` (pyzmq and msgpack). The endpoint and account id come
from `GET /api/v1/account/stream-endpoint` (`ComputalotClient.stream_endpoint()`).

ZeroMQ PUB/SUB is best effort: events published before the subscription reached the controller (a few
milliseconds after connecting) or while the subscriber was too slow are not delivered. The SSE streams
(`ComputalotClient.stream`) replay from the database and miss nothing; use them when every event matters.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

_EXTRA_HINT = "computalot.subscribe needs pyzmq and msgpack: pip install 'computalot[zmq]'"


def _modules() -> tuple[Any, Any]:
    try:
        import msgpack
        import zmq
    except ImportError as exc:
        raise ImportError(f"{_EXTRA_HINT} ({exc})") from exc
    return zmq, msgpack


def subscribe(
    endpoint: str, account_id: str, job_id: str | None = None, *, timeout_s: float | None = None
) -> Iterator[dict[str, Any]]:
    """Yield `{seq, kind, job_id, data, created_at}` for each event of the account (or of `job_id`).

    Parameters:
      endpoint: the publisher, e.g. `tcp://127.0.0.1:5570`.
      account_id: whose events (`acc_…`); the topic prefix is `<account_id>/`.
      job_id: only this job's events.
      timeout_s: raise TimeoutError when no event arrives for this long (None waits forever).

    Raises:
      ImportError: the `zmq` extra is not installed.
      TimeoutError: nothing arrived within `timeout_s`.
    """
    zmq, msgpack = _modules()
    ctx = zmq.Context()
    socket = ctx.socket(zmq.SUB)
    socket.setsockopt(zmq.LINGER, 0)
    socket.setsockopt(zmq.SUBSCRIBE, f"{account_id}/{job_id or ''}".encode())
    socket.connect(endpoint)
    poller = zmq.Poller()
    poller.register(socket, zmq.POLLIN)
    timeout_ms = None if timeout_s is None else int(timeout_s * 1000)
    try:
        while True:
            if not poller.poll(timeout_ms):
                raise TimeoutError(f"no event from {endpoint} within {timeout_s}s")
            _topic, body = socket.recv_multipart()
            event = msgpack.unpackb(body, raw=False)
            # The topic is a prefix match: job_abc would also match job_abcd, so compare the id itself.
            if job_id is None or event.get("job_id") == job_id:
                yield event
    finally:
        socket.close()
        ctx.term()
