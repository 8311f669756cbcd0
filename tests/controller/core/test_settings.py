"""Tests of controller.core.settings: environment parsing, flags on top, and the derived values."""

from __future__ import annotations

from pathlib import Path

import pytest

from controller.core.settings import ConfigError, Settings, default_data_dir


def test_no_environment_gives_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an empty environment and a data home
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))

    # When settings are read
    settings = Settings.from_env({})

    # Then the defaults apply, the data dir is under the data home, and the database is SQLite in it
    assert settings == Settings(data_dir=tmp_path / "computalot")
    assert (settings.broker_url, settings.host, settings.port) == ("memory://", "127.0.0.1", 8470)
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'computalot' / 'computalot.db'}"
    assert settings.revisions_dir == tmp_path / "computalot" / "revisions"
    assert settings.base_url == "http://127.0.0.1:8470"


def test_the_data_dir_falls_back_to_local_share(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Given no XDG_DATA_HOME
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))

    # Then the data dir is ~/.local/share/computalot
    assert default_data_dir() == tmp_path / ".local" / "share" / "computalot"


def test_every_variable_is_read_with_its_type(tmp_path: Path) -> None:
    # Given every COMPUTALOT_* variable
    env = {
        "COMPUTALOT_DATA_DIR": str(tmp_path),
        "COMPUTALOT_DATABASE_URL": "postgresql://u:p@db/computalot",
        "COMPUTALOT_BROKER_URL": "redis://localhost:6379/0",
        "COMPUTALOT_HOST": "0.0.0.0",
        "COMPUTALOT_PORT": "9000",
        "COMPUTALOT_PUBLIC_URL": "https://computalot.example.com/",
        "COMPUTALOT_ZMQ_HOST": "10.0.0.1",
        "COMPUTALOT_ZMQ_EVENTS_PORT": "5555",
        "COMPUTALOT_ZMQ_CONTROL_PORT": "5556",
        "COMPUTALOT_AGENT_TTL_S": "2.5",
        "COMPUTALOT_MAX_TASKS_PER_JOB": "10",
        "COMPUTALOT_MAX_ARTIFACT_BYTES": "1048576",
        "COMPUTALOT_UPLOAD_TTL_S": "600.5",
        "COMPUTALOT_ZMQ_PUBLISH_HOST": "10.0.0.2",
        "COMPUTALOT_ZMQ_PUBLISH_PORT": "5557",
        "COMPUTALOT_METRICS_TOKEN": "scrape-me",
        "COMPUTALOT_SSE_HEARTBEAT_S": "5",
    }

    # When settings are read
    settings = Settings.from_env(env)

    # Then each lands in its setting with the right type
    assert settings == Settings(
        data_dir=tmp_path,
        database_url="postgresql://u:p@db/computalot",
        broker_url="redis://localhost:6379/0",
        host="0.0.0.0",
        port=9000,
        public_url="https://computalot.example.com/",
        zmq_host="10.0.0.1",
        zmq_events_port=5555,
        zmq_control_port=5556,
        agent_ttl_s=2.5,
        max_tasks_per_job=10,
        max_artifact_bytes=1048576,
        upload_ttl_s=600.5,
        zmq_publish_host="10.0.0.2",
        zmq_publish_port=5557,
        metrics_token="scrape-me",
        sse_heartbeat_s=5.0,
    )
    assert isinstance(settings.data_dir, Path)
    assert settings.effective_database_url == "postgresql://u:p@db/computalot"
    assert settings.base_url == "https://computalot.example.com"


def test_an_empty_variable_counts_as_unset(tmp_path: Path) -> None:
    # Given variables set to the empty string, When read, Then the defaults apply
    settings = Settings.from_env(
        {"COMPUTALOT_PORT": "", "COMPUTALOT_BROKER_URL": "", "COMPUTALOT_DATA_DIR": str(tmp_path)}
    )
    assert (settings.port, settings.broker_url) == (8470, "memory://")


def test_flags_override_the_environment_and_none_flags_are_ignored(tmp_path: Path) -> None:
    # Given a port and host in the environment
    env = {"COMPUTALOT_PORT": "9000", "COMPUTALOT_HOST": "0.0.0.0", "COMPUTALOT_DATA_DIR": str(tmp_path)}

    # When flags give a port and leave host unset (None)
    settings = Settings.from_env(env, port=9100, host=None)

    # Then the flag wins for port and the environment stays for host
    assert (settings.port, settings.host) == (9100, "0.0.0.0")


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("COMPUTALOT_PORT", "eighty"),
        ("COMPUTALOT_ZMQ_EVENTS_PORT", "1.5"),
        ("COMPUTALOT_AGENT_TTL_S", "soon"),
        ("COMPUTALOT_MAX_TASKS_PER_JOB", "1e5"),
        ("COMPUTALOT_MAX_ARTIFACT_BYTES", "2GB"),
        ("COMPUTALOT_SSE_HEARTBEAT_S", "often"),
    ],
)
def test_a_value_of_the_wrong_type_names_the_variable(var: str, value: str) -> None:
    # Given a variable that does not parse
    # When settings are read
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({var: value})

    # Then the error names the variable and the value
    assert var in caught.value.message
    assert repr(value) in caught.value.message


@pytest.mark.parametrize(
    ("env", "overrides", "says"),
    [
        ({"COMPUTALOT_PORT": "70000"}, {}, "port"),
        ({}, {"port": -1}, "port"),
        ({"COMPUTALOT_AGENT_TTL_S": "0"}, {}, "agent_ttl_s"),
        ({}, {"agent_ttl_s": -3.0}, "agent_ttl_s"),
        ({"COMPUTALOT_ZMQ_PUBLISH_PORT": "65536"}, {}, "zmq_publish_port"),
        ({}, {"zmq_publish_port": -1}, "zmq_publish_port"),
        ({"COMPUTALOT_SSE_HEARTBEAT_S": "0"}, {}, "sse_heartbeat_s"),
    ],
)
def test_values_that_cannot_work_are_refused(env: dict[str, str], overrides: dict[str, object], says: str) -> None:
    # Given an impossible port or TTL, When settings are read, Then a ConfigError names the setting
    with pytest.raises(ConfigError, match=says):
        Settings.from_env(env, **overrides)


def test_port_zero_is_allowed() -> None:
    # Given port 0 (pick a free port), When read, Then it is kept
    assert Settings.from_env({"COMPUTALOT_PORT": "0"}).port == 0


def test_the_process_environment_is_used_when_none_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given COMPUTALOT_PORT in the process environment
    monkeypatch.setenv("COMPUTALOT_PORT", "9321")

    # When settings are read without an explicit mapping, Then it is used
    assert Settings.from_env().port == 9321
