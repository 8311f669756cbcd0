"""Settings of the live side: the event publisher, the metrics token and the SSE heartbeat."""

from __future__ import annotations

import pytest

from controller.core.settings import ConfigError, Settings


def test_the_live_settings_default_to_loopback_a_free_port_no_token_and_15_s() -> None:
    settings = Settings.from_env({})
    assert (settings.zmq_publish_host, settings.zmq_publish_port) == ("127.0.0.1", 0)
    assert settings.metrics_token == ""
    assert settings.sse_heartbeat_s == 15.0


def test_the_live_settings_are_read_from_the_environment() -> None:
    env = {
        "COMPUTALOT_ZMQ_PUBLISH_HOST": "10.0.0.2",
        "COMPUTALOT_ZMQ_PUBLISH_PORT": "5570",
        "COMPUTALOT_METRICS_TOKEN": "s3cret",
        "COMPUTALOT_SSE_HEARTBEAT_S": "2.5",
    }
    settings = Settings.from_env(env)
    assert (settings.zmq_publish_host, settings.zmq_publish_port) == ("10.0.0.2", 5570)
    assert (settings.metrics_token, settings.sse_heartbeat_s) == ("s3cret", 2.5)


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"COMPUTALOT_ZMQ_PUBLISH_PORT": "70000"}, "zmq_publish_port"),
        ({"COMPUTALOT_SSE_HEARTBEAT_S": "0"}, "sse_heartbeat_s"),
        ({"COMPUTALOT_ZMQ_PUBLISH_PORT": "soon"}, "COMPUTALOT_ZMQ_PUBLISH_PORT"),
    ],
)
def test_live_settings_that_cannot_work_are_refused(env: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        Settings.from_env(env)
