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
) -> Subscriber:
    """Subscribe now to the events of the account (or of `job_id`); iterate the result to receive them.

    Parameters:
      endpoint: the publisher, e.g. `tcp://127.0.0.1:5570`.
      account_id: whose events (`acc_…`); the topic prefix is `<account_id>/`.
      job_id: only this job's events.
      timeout_s: raise TimeoutError when no event arrives for this long (None waits forever).

    Raises:
      ImportError: the `zmq` extra is not installed.
    """
    return Subscriber(endpoint, account_id, job_id, timeout_s=timeout_s)


class Subscriber:
    """An open SUB socket; yields `{seq, kind, job_id, data, created_at}` maps. Close it (or use `with`)."""

    def __init__(self, endpoint: str, account_id: str, job_id: str | None = None, *, timeout_s: float | None) -> None:
        zmq, self._msgpack = _modules()
        self.endpoint, self.job_id, self.timeout_s = endpoint, job_id, timeout_s
        self._ctx = zmq.Context()
        self._socket = self._ctx.socket(zmq.SUB)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.setsockopt(zmq.SUBSCRIBE, f"{account_id}/{job_id or ''}".encode())
        self._socket.connect(endpoint)
        self._poller = zmq.Poller()
        self._poller.register(self._socket, zmq.POLLIN)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self

    def __next__(self) -> dict[str, Any]:
        """The next event.

        Raises:
          TimeoutError: nothing arrived within `timeout_s`.
        """
        timeout_ms = None if self.timeout_s is None else int(self.timeout_s * 1000)
        while True:
            if not self._poller.poll(timeout_ms):
                raise TimeoutError(f"no event from {self.endpoint} within {self.timeout_s}s")
            _topic, body = self._socket.recv_multipart()
            event = self._msgpack.unpackb(body, raw=False)
            # The topic is a prefix match (job_abc would match job_abcd): compare the id itself.
            if self.job_id is None or event.get("job_id") == self.job_id:
                return event

    def close(self) -> None:
        self._socket.close()
        self._ctx.term()

    def __enter__(self) -> Subscriber:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
