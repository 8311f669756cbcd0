"""Agent configuration: one frozen object built in `main()` and passed down."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "computalot-agent"


@dataclass(frozen=True)
class AgentSettings:
    """Everything an agent process needs to know."""

    controller_url: str
    broker_url: str
    #: the agent key (role `agent`, from `computalot-admin create-agent`): read from a file or the environment by
    #: `main()`, never argv; kept out of repr so it is never logged
    token: str = field(repr=False)
    cache_dir: Path = field(default_factory=_default_cache_dir)
    #: tasks run at once (one Dramatiq worker thread each); 0 means one per CPU
    slots: int = 0
    #: hardware profiles served (their task queues are consumed)
    profiles: tuple[str, ...] = ("cpu",)
    #: replaced at start by the id the controller derives from the key (its agent account's id)
    agent_id: str = field(default_factory=lambda: f"agt_{uuid.uuid4().hex[:12]}")
    heartbeat_interval_s: float = 2.0
    #: seconds between SIGTERM and SIGKILL when a task is stopped
    kill_grace_s: float = 2.0
    #: run project tasks in the bubblewrap sandbox (False only with --unsafe-no-sandbox, for development)
    sandbox: bool = True
    #: where each attempt's sandbox directory lives (must be reachable by the sandbox uids: not under /root)
    sandbox_dir: Path = Path("/var/tmp/computalot-sandbox")
    #: first host uid of the range attempts run as (one per slot; these uids must own nothing on the host)
    sandbox_uid_base: int = 2_000_000
    #: host directories every task may read, at the same path (an interpreter, a shared virtualenv)
    sandbox_ro_paths: tuple[Path, ...] = ()
    #: kernel limits of each attempt: processes (RLIMIT_NPROC) and the size of any file (RLIMIT_FSIZE)
    task_nproc: int = 512
    task_fsize_mb: int = 16384

    @property
    def effective_slots(self) -> int:
        return self.slots or os.cpu_count() or 1
