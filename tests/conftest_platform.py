"""The platform under test, as real processes: the embedded server, or controller and agents apart."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Generator, Iterator
from pathlib import Path

import httpx
import pytest
from computalot import ComputalotClient

BIN = Path(sys.executable).parent
#: Dollars credited to every account `Platform.new_token` creates (accounts start at $0).
CREDIT = "1000"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Process:
    """A platform process started by a test, stopped by its pid."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.args, self.log_path = args, log
        self._log = log.open("ab")
        self.proc = subprocess.Popen(
            args,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.alive():
            self.proc.kill()
            self.proc.wait(timeout=10)

    def stop(self, timeout_s: float = 20) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()


def wait_ready(url: str, process: Process, agents: int = 1, timeout_s: float = 60) -> None:
    """Until the controller answers /ready and `agents` agents are live."""
    deadline = time.monotonic() + timeout_s
    last = ""
    while time.monotonic() < deadline:
        if not process.alive():
            raise RuntimeError(f"{process.args[0]} exited early:\n{process.log_tail()}")
        try:
            response = httpx.get(f"{url}/ready", timeout=2)
            last = response.text
            if response.status_code == 200 and response.json().get("live_agents", 0) >= agents:
                return
        except httpx.HTTPError as exc:
            last = str(exc)
        time.sleep(0.2)
    raise RuntimeError(f"platform not ready after {timeout_s}s ({last}):\n{process.log_tail()}")


class Platform:
    """A running platform: its URL, admin token, and helpers to make accounts and projects."""

    def __init__(self, url: str, admin_token: str, admin_args: list[str], workdir: Path) -> None:
        self.url, self.admin_token, self.admin_args, self.workdir = url, admin_token, admin_args, workdir
        self.processes: list[Process] = []

    def new_token(self, role: str = "member") -> str:
        """A fresh account's API key, with $1000 of credit (each test gets its own account, so tests never see each
        other's objects)."""
        name = f"test-{secrets.token_hex(4)}"
        out = subprocess.run(
            [*self.admin_args, "create-account", name, "--role", role, "--credit-usd", CREDIT],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return out.strip().splitlines()[-1]

    def client(self, role: str = "member") -> ComputalotClient:
        return ComputalotClient(self.url, self.new_token(role))

    def http(self, token: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def make_project(client: ComputalotClient, files: dict[str, str], name: str | None = None) -> str:
    """Create a project holding `files` (path -> text) and push it; returns its name."""
    name = name or f"p-{secrets.token_hex(4)}"
    with tempfile.TemporaryDirectory() as tmp:
        for path, text in files.items():
            target = Path(tmp) / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        client.create_project(name)
        client.push_project(name, tmp)
    return name


def process_manifest(command: list[str] | None = None) -> str:
    import json

    manifest = {"version": 1, "runtime": {"kind": "process"}}
    if command:
        manifest["entrypoint"] = {"command": command}
    return json.dumps(manifest)


@pytest.fixture(scope="session")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """`computalot-server up` in a subprocess: SQLite, in-process broker, one agent with 4 slots."""
    data_dir = tmp_path_factory.mktemp("embedded")
    yield from _embedded(data_dir)


def _embedded(data_dir: Path, port: int | None = None, slots: int = 4) -> Generator[Platform, None, None]:
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    server = Process(
        [str(BIN / "computalot-server"), "up", "--data-dir", str(data_dir), "--port", str(port), "--slots", str(slots)],
        data_dir / "server.log",
        # the callback tests post to a server of their own on loopback
        env={"COMPUTALOT_ALLOW_PRIVATE_CALLBACKS": "1"},
    )
    try:
        wait_ready(url, server)
        platform = Platform(
            url,
            (data_dir / "admin-token").read_text().strip(),
            # the admin command talks to this server, with the embedded admin's token from the data dir
            [str(BIN / "computalot-admin"), "--url", url, "--data-dir", str(data_dir)],
            data_dir,
        )
        platform.processes.append(server)
        yield platform
    finally:
        server.stop()


@pytest.fixture
def client(embedded: Platform) -> Iterator[ComputalotClient]:
    with embedded.client() as c:
        yield c
