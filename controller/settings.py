"""Controller configuration: one frozen object, read from the environment once and passed down."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.errors import ComputalotError


class ConfigError(ComputalotError):
    code = "config_error"


def default_data_dir() -> Path:
    """`$XDG_DATA_HOME/computalot`, else `~/.local/share/computalot`."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "computalot"


#: environment variable -> (setting, type)
_ENV: dict[str, tuple[str, type]] = {
    "COMPUTALOT_DATA_DIR": ("data_dir", Path),
    "COMPUTALOT_DATABASE_URL": ("database_url", str),
    "COMPUTALOT_BROKER_URL": ("broker_url", str),
    "COMPUTALOT_HOST": ("host", str),
    "COMPUTALOT_PORT": ("port", int),
    "COMPUTALOT_PUBLIC_URL": ("public_url", str),
    "COMPUTALOT_ZMQ_HOST": ("zmq_host", str),
    "COMPUTALOT_ZMQ_EVENTS_PORT": ("zmq_events_port", int),
    "COMPUTALOT_ZMQ_CONTROL_PORT": ("zmq_control_port", int),
    "COMPUTALOT_AGENT_TTL_S": ("agent_ttl_s", float),
    "COMPUTALOT_MAX_TASKS_PER_JOB": ("max_tasks_per_job", int),
}


@dataclass(frozen=True)
class Settings:
    """Everything the controller process needs to know about its environment."""

    data_dir: Path = dataclasses.field(default_factory=default_data_dir)
    #: peewee URL; empty means SQLite in the data dir
    database_url: str = ""
    broker_url: str = "memory://"
    host: str = "127.0.0.1"
    port: int = 8470
    #: URL clients and agents use to reach this controller; derived from host and port when empty
    public_url: str = ""
    #: interface the ZeroMQ sockets bind to (agent events in, control out)
    zmq_host: str = "127.0.0.1"
    #: 0 picks a free port; agents learn the endpoints from GET /api/v1/agent/config
    zmq_events_port: int = 0
    zmq_control_port: int = 0
    #: seconds without a heartbeat after which an agent counts as gone
    agent_ttl_s: float = 8.0
    max_tasks_per_job: int = 100_000
    max_payload_bytes: int = 1024 * 1024
    max_push_bytes: int = 256 * 1024 * 1024
    #: seconds between flushes of live output and progress to the database
    flush_interval_s: float = 0.5

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from `COMPUTALOT_*` variables, then `overrides` (flags) on top; None overrides are ignored.

        Raises:
          ConfigError: a variable has the wrong type.
        """
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for var, (name, kind) in _ENV.items():
            if env.get(var):
                try:
                    values[name] = kind(env[var])
                except ValueError:
                    raise ConfigError(f"{var} must be a {kind.__name__}, got {env[var]!r}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values).validated()

    def validated(self) -> Settings:
        """Self, after checking values that cannot work."""
        if not 0 <= self.port < 65536:
            raise ConfigError(f"port must be 0..65535, got {self.port}")
        if self.agent_ttl_s <= 0:
            raise ConfigError("agent_ttl_s must be positive")
        return self

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'computalot.db'}"

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def revisions_dir(self) -> Path:
        return self.data_dir / "revisions"
