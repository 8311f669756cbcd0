"""Controller configuration: one frozen object, read from the environment once and passed down."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from controller.core.errors import ComputalotError


class ConfigError(ComputalotError):
    code = "config_error"


#: `x402_facilitator` value that settles x402 payments locally: verified and credited, no funds move (development)
LOCAL_DEV_FACILITATOR = "local-dev"
#: what a controller says when it starts with the local-dev facilitator
LOCAL_DEV_WARNING = (
    "x402 payments use the local-dev facilitator: verified authorizations are credited and no funds move, so any "
    "member can credit itself. Development only: never on a controller that others use."
)


def default_data_dir() -> Path:
    """`$XDG_DATA_HOME/computalot`, else `~/.local/share/computalot`."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "computalot"


#: environment variable -> (setting, type)
_ENV: dict[str, tuple[str, Callable[[str], Any]]] = {
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
    "COMPUTALOT_MAX_ARTIFACT_BYTES": ("max_artifact_bytes", int),
    "COMPUTALOT_UPLOAD_TTL_S": ("upload_ttl_s", float),
    "COMPUTALOT_ZMQ_PUBLISH_HOST": ("zmq_publish_host", str),
    "COMPUTALOT_ZMQ_PUBLISH_PORT": ("zmq_publish_port", int),
    "COMPUTALOT_METRICS_TOKEN": ("metrics_token", str),
    "COMPUTALOT_SSE_HEARTBEAT_S": ("sse_heartbeat_s", float),
    "COMPUTALOT_ALLOW_PRIVATE_CALLBACKS": ("allow_private_callbacks", lambda v: v.lower() in ("1", "true", "yes")),
    "COMPUTALOT_X402_PAY_TO": ("x402_pay_to", str),
    "COMPUTALOT_X402_NETWORK": ("x402_network", str),
    "COMPUTALOT_X402_ASSET": ("x402_asset", str),
    # the older name of COMPUTALOT_X402_FACILITATOR, read first so the newer one wins when both are set
    "COMPUTALOT_X402_FACILITATOR_URL": ("x402_facilitator", str),
    "COMPUTALOT_X402_FACILITATOR": ("x402_facilitator", str),
}


@dataclass(frozen=True)
class Settings:
    """Everything the controller process needs to know about its environment."""

    data_dir: Path = dataclasses.field(default_factory=default_data_dir)
    #: peewee URL; empty means SQLite in the data dir
    database_url: str = ""
    #: apply missing schema migrations at startup (the embedded launcher does); off, a database that lacks
    #: some is refused and the operator runs `computalot-admin migrate` (an empty one is always created)
    auto_migrate: bool = False
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
    #: largest artifact (raw, direct or multipart upload)
    max_artifact_bytes: int = 2 * 1024**3
    #: seconds a multipart upload or signed upload URL stays valid; expired uploads are removed
    upload_ttl_s: float = 24 * 3600
    #: seconds between flushes of live output and progress to the database
    flush_interval_s: float = 0.5
    #: deliver callbacks to loopback and private-network addresses (off: they could reach internal services)
    allow_private_callbacks: bool = False
    #: interface of the ZeroMQ PUB socket that publishes every event to progress subscribers (loopback: only
    #: processes on this host can subscribe; use CURVE or an authenticating proxy to offer it further)
    zmq_publish_host: str = "127.0.0.1"
    #: port of that socket; 0 picks a free one (GET /api/v1/account/stream-endpoint names it)
    zmq_publish_port: int = 0
    #: bearer token that may read /metrics besides admin tokens and local requests; empty: none
    metrics_token: str = ""
    #: seconds between SSE comment heartbeats on idle streams
    sse_heartbeat_s: float = 15.0
    #: address that receives x402 top-ups; empty: a placeholder only the local-dev facilitator accepts
    x402_pay_to: str = ""
    #: CAIP-2 network and token contract of x402 top-ups (USDC on Base)
    x402_network: str = "eip155:8453"
    x402_asset: str = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"
    #: who settles x402 payments: the base URL of an x402 facilitator (/verify, /settle); `local-dev`, which credits
    #: verified authorizations and moves no funds (development only: anyone could mint money); empty: nobody, and
    #: payments are refused with 503 payments_unavailable
    x402_facilitator: str = ""

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
                    raise ConfigError(f"{var} has an invalid value {env[var]!r}") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values).validated()

    def validated(self) -> Settings:
        """Self, after checking values that cannot work."""
        if not 0 <= self.port < 65536:
            raise ConfigError(f"port must be 0..65535, got {self.port}")
        if self.agent_ttl_s <= 0:
            raise ConfigError("agent_ttl_s must be positive")
        if not 0 <= self.zmq_publish_port < 65536:
            raise ConfigError(f"zmq_publish_port must be 0..65535, got {self.zmq_publish_port}")
        if self.sse_heartbeat_s <= 0:
            raise ConfigError("sse_heartbeat_s must be positive")
        if self.x402_facilitator not in ("", LOCAL_DEV_FACILITATOR) and not self.x402_facilitator.startswith(
            ("http://", "https://")
        ):
            raise ConfigError(
                f"the x402 facilitator must be an http(s) URL or {LOCAL_DEV_FACILITATOR}, got {self.x402_facilitator!r}"
            )
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

    @property
    def artifacts_dir(self) -> Path:
        return self.data_dir / "artifacts"
