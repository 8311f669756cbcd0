"""Controller and agents as separate OS processes over PostgreSQL and a real broker (Redis or RabbitMQ)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest_platform import BIN, Platform, Process, free_port, wait_ready


class Distributed(Platform):
    """A controller process plus agent processes that can be killed and added."""

    def __init__(self, url: str, admin_token: str, admin_args: list[str], workdir: Path, broker_url: str) -> None:
        super().__init__(url, admin_token, admin_args, workdir)
        self.broker_url = broker_url
        self.agents: list[Process] = []

    def start_agent(self) -> Process:
        """A new agent process, with an agent key of its own (made by the admin command, passed in a file)."""
        n = len(self.agents)
        key_file = self.workdir / f"agent{n}.key"
        subprocess.run([*self.admin_args, "create-agent", f"agent{n}", "--key-file", str(key_file)], check=True)
        agent = Process(
            [
                str(BIN / "computalot-agent"),
                "--controller",
                self.url,
                "--broker",
                self.broker_url,
                "--token-file",
                str(key_file),
                "--slots",
                "2",
                "--cache-dir",
                str(self.workdir / f"agent{n}"),
            ],
            self.workdir / f"agent{n}.log",
        )
        self.agents.append(agent)
        self.processes.append(agent)
        return agent


@pytest.fixture(params=["redis", "amqp"])
def distributed(request: pytest.FixtureRequest, postgres_db_url: str, tmp_path: Path) -> Iterator[Distributed]:
    """A controller on PostgreSQL and one agent, over the broker named by the parameter."""
    broker_url = request.getfixturevalue("fresh_redis_url" if request.param == "redis" else "amqp_url")
    # the first admin is the one account made in the database itself, before the controller starts
    created = subprocess.run(
        [str(BIN / "computalot-admin"), "--database-url", postgres_db_url, "bootstrap", "ops", "--credit-usd", "1000"],
        capture_output=True,
        text=True,
        check=True,
    )
    admin_token = created.stdout.strip().splitlines()[-1]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    admin_args = [str(BIN / "computalot-admin"), "--url", url, "--token", admin_token]
    controller = Process(
        [
            str(BIN / "computalot-controller"),
            "--database-url",
            postgres_db_url,
            "--broker-url",
            broker_url,
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path / "controller"),
        ],
        tmp_path / "controller.log",
        env={"COMPUTALOT_AGENT_TTL_S": "4"},
    )
    platform = Distributed(url, admin_token, admin_args, tmp_path, broker_url)
    platform.processes.append(controller)
    try:
        wait_ready(url, controller, agents=0)  # agents are made through the admin API of the running controller
        platform.start_agent()
        wait_ready(url, controller, agents=1)
        yield platform
    finally:
        for process in reversed(platform.processes):
            process.stop()
