"""Readiness of a controller process follows its broker: 503 while it is down, 200 again once it is back."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest_platform import BIN, Process, free_port, wait_ready
from tests.e2e.test_jobs import wait_for
from tests.services import Server


def ready_status(url: str) -> tuple[int, dict]:
    response = httpx.get(f"{url}/ready", timeout=10)
    return response.status_code, response.json()


@pytest.fixture(params=["redis", "rabbitmq"])
def private_broker(request: pytest.FixtureRequest) -> Server:
    """A Redis or RabbitMQ server for this test alone."""
    return request.getfixturevalue(f"private_{request.param}")


def test_ready_answers_503_while_the_broker_is_down_and_200_once_it_is_back(
    private_broker: Server, tmp_path: Path
) -> None:
    # Given a controller on its own broker, ready
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    controller = Process(
        [
            str(BIN / "computalot-controller"),
            "--broker-url",
            private_broker.url,
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path / "controller"),
        ],
        tmp_path / "controller.log",
    )
    try:
        wait_ready(url, controller, agents=0)

        # When the broker stops
        private_broker.stop()

        # Then /ready answers 503 naming the broker, while /live still answers 200
        wait_for(lambda: ready_status(url)[0] == 503, timeout_s=30)
        status, body = ready_status(url)
        assert body["error"]["code"] == "not_ready"
        assert body["error"]["details"]["checks"] == {"database": True, "broker": False, "event_hub": True}
        assert httpx.get(f"{url}/live", timeout=10).status_code == 200

        # And when the broker is back on the same port, /ready answers 200 again
        private_broker.start()
        wait_for(lambda: ready_status(url)[0] == 200, timeout_s=30)
        assert ready_status(url)[1]["checks"]["broker"] is True
    finally:
        controller.stop()
