"""Real PostgreSQL, Redis and RabbitMQ servers for the test session.

Each server runs from its own temporary directory on free 127.0.0.1 ports and is stopped through the pids
this module started (never looked up by name), so a test run leaves no server behind and never touches a
system service. Linux only: child processes are found through /proc.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Self

import pika
import psycopg2
import psycopg2.extensions
import redis

logger = logging.getLogger(__name__)

#: Seconds a server gets to accept connections before the start fails.
READY_TIMEOUT_S = 60.0
#: Seconds a server gets to shut down cleanly before it is killed.
STOP_TIMEOUT_S = 15.0
_POLL_S = 0.05
_LOG_TAIL_LINES = 30


class ServiceError(RuntimeError):
    """A test server could not be found, started or reached."""


def free_ports(count: int = 1) -> list[int]:
    """Return `count` distinct ports on 127.0.0.1 that nothing listens on right now."""
    # All sockets stay bound until every port is chosen, so the kernel cannot hand out one port twice.
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def find_binary(name: str, *preferred_globs: str) -> str:
    """Return the last match of `preferred_globs` in sorted order, else `name` from PATH.

    Raises:
        ServiceError: the binary is not installed.
    """
    matches = sorted(path for pattern in preferred_globs for path in glob.glob(pattern) if os.access(path, os.X_OK))
    found = matches[-1] if matches else shutil.which(name)
    if found is None:
        raise ServiceError(f"{name} not found in {list(preferred_globs)} or on PATH; run .ci/install-services.sh")
    return found


def _process_table() -> dict[int, tuple[int, int]]:
    """Map every pid to (parent pid, start time in clock ticks), read from /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text()
        except OSError:  # the process exited while we were looking
            continue
        # The command name may hold spaces and parentheses, so split after its closing one.
        fields = stat[stat.rindex(")") + 2 :].split()
        table[int(entry)] = (int(fields[1]), int(fields[19]))
    return table


def _family(root: int) -> dict[int, int]:
    """Return {pid: start time} for `root` and all its living descendants."""
    table = _process_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    family, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            family[pid] = table[pid][1]
            todo.extend(children.get(pid, []))
    return family


def _kill_if_same(pid: int, start_time: int) -> None:
    """SIGKILL `pid` unless it exited, checking its start time so a recycled pid is never hit."""
    try:
        stat = Path("/proc", str(pid), "stat").read_text()
        if int(stat[stat.rindex(")") + 2 :].split()[19]) == start_time:
            os.kill(pid, signal.SIGKILL)
    except (OSError, ValueError):
        pass  # already gone


def _wait_gone(family: dict[int, int], timeout_s: float) -> None:
    """Until every killed process has exited (a zombie counts): a big VM takes a moment to die under load."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        alive = []
        for pid, start_time in family.items():
            try:
                stat = Path("/proc", str(pid), "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if fields[0] != "Z" and int(fields[19]) == start_time:
                alive.append(pid)
        if not alive:
            return
        time.sleep(0.05)


class _Process:
    """One child started as leader of a new session, so its whole group can be signalled without ours."""

    def __init__(self, argv: list[str], log_path: Path, stop_signal: signal.Signals, **popen_kwargs: Any) -> None:
        self.argv, self.log_path, self.stop_signal = argv, log_path, stop_signal
        with open(log_path, "ab") as log:
            self.popen = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **popen_kwargs,
            )

    def stop(self, sig: signal.Signals | None = None, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Signal the group, wait for the leader, then SIGKILL whatever it spawned that is still alive."""
        # Snapshot first: Erlang's port helpers call setsid, so they leave our group and, once the VM dies,
        # are reparented away from it; only their pids recorded now still name them.
        family = _family(self.popen.pid) if self.popen.returncode is None else {}
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, sig or self.stop_signal)  # safe: the unreaped leader keeps the pgid ours
            try:
                self.popen.wait(timeout_s)
            except subprocess.TimeoutExpired:
                logger.warning(
                    "pid=%d ignored %s for %.0fs; killing it", self.popen.pid, sig or self.stop_signal, timeout_s
                )
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        for pid, start_time in family.items():
            _kill_if_same(pid, start_time)
        _wait_gone(family, timeout_s)

    def pids(self) -> set[int]:
        """Return the pids of this process and its descendants that are alive now."""
        return set(_family(self.popen.pid)) if self.popen.poll() is None else set()


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _clean_env(*prefixes: str) -> dict[str, str]:
    """Return our environment without variables that would point a server at someone else's setup."""
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


class Server:
    """A server process family on 127.0.0.1 that can be started, stopped, killed and restarted in place.

    Ports and the data directory are chosen once, so a restart comes back on the same port with the same data.
    """

    name = "server"

    def __init__(self, base_dir: Path | None = None) -> None:
        self._owns_dir = base_dir is None
        self.base_dir = Path(tempfile.mkdtemp(prefix=f"computalot-{self.name}-")) if base_dir is None else base_dir
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_ports()[0]
        self.startup_s = 0.0
        self._processes: list[_Process] = []

    @property
    def url(self) -> str:
        """Client URL of this server."""
        raise NotImplementedError

    def start(self, timeout_s: float = READY_TIMEOUT_S) -> Self:
        """Start the server and return once a client has connected to it.

        Raises:
            ServiceError: a binary is missing, or the server exited or did not answer within `timeout_s`.
        """
        if self.is_running():
            raise ServiceError(f"{self.name} on port {self.port} is already running")
        started = time.monotonic()
        try:
            self._launch()
            self._wait_ready(time.monotonic() + timeout_s)
            self._after_ready()
        except BaseException:
            self.kill()
            raise
        # Stop the server even if the test session dies without running its fixture teardowns.
        atexit.register(self.kill)
        self.startup_s = time.monotonic() - started
        logger.info("%s ready port=%d in %.1fs dir=%s", self.name, self.port, self.startup_s, self.base_dir)
        return self

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> None:
        """Shut the server down cleanly, keeping its data for a later `start()`."""
        self._stop(None, timeout_s)

    def kill(self) -> None:
        """SIGKILL every process of the server, as a crash would; data stays for a later `start()`."""
        self._stop(signal.SIGKILL, STOP_TIMEOUT_S)

    def restart(self, timeout_s: float = READY_TIMEOUT_S) -> Self:
        """Stop the server cleanly and start it again on the same port and data."""
        self.stop()
        return self.start(timeout_s)

    def close(self) -> None:
        """Kill the server and delete its directory if this object created it."""
        self.kill()  # the data is about to be deleted, so a clean shutdown would only cost time
        if self._owns_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def is_running(self) -> bool:
        """Whether any process of the server is still alive."""
        return any(p.popen.poll() is None for p in self._processes)

    def pids(self) -> set[int]:
        """Return the pids of every process the server runs now, helpers included."""
        return set().union(*(p.pids() for p in self._processes))

    def log_tail(self) -> str:
        """Return the last lines of each log the server writes."""
        return "\n".join(f"--- {path}\n{_tail(path)}" for path in self._log_paths())

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _stop(self, sig: signal.Signals | None, timeout_s: float) -> None:
        for process in reversed(self._processes):  # dependants first: the RabbitMQ node before its epmd
            process.stop(sig, timeout_s)
        self._processes.clear()
        atexit.unregister(self.kill)

    def _spawn(self, argv: list[str], log_name: str, stop_signal: signal.Signals, **popen_kwargs: Any) -> None:
        self._processes.append(_Process(argv, self.base_dir / log_name, stop_signal, **popen_kwargs))

    def _wait_ready(self, deadline: float) -> None:
        while True:
            for process in self._processes:
                if process.popen.poll() is not None:
                    raise ServiceError(
                        f"{self.name} ({process.argv[0]}) exited with code {process.popen.returncode} before it "
                        f"accepted connections\n{self.log_tail()}"
                    )
            try:
                self._probe()
                return
            except Exception as exc:  # any failure to connect means "not yet"
                if time.monotonic() > deadline:
                    raise ServiceError(
                        f"{self.name} on port {self.port} not ready in time: {exc!r}\n{self.log_tail()}"
                    ) from exc
            time.sleep(_POLL_S)

    def _launch(self) -> None:
        raise NotImplementedError

    def _probe(self) -> None:
        """Connect once as a client would; raise if that fails."""
        raise NotImplementedError

    def _after_ready(self) -> None:
        """Prepare the running server for tests (users, databases)."""

    def _log_paths(self) -> list[Path]:
        return [p.log_path for p in self._processes]


class PostgresServer(Server):
    """PostgreSQL with a password user owning one database, run without fsync for speed."""

    name = "postgres"
    user = "computalot"
    password = "computalot"
    database = "computalot"

    def __init__(self, base_dir: Path | None = None) -> None:
        # Binaries first, so a missing one leaves no temporary directory behind. The versioned directory
        # first: Debian's /usr/bin has only wrappers for the client tools.
        self._initdb = find_binary("initdb", "/usr/lib/postgresql/*/bin/initdb")
        self._postgres = find_binary("postgres", "/usr/lib/postgresql/*/bin/postgres")
        super().__init__(base_dir)
        self.data_dir = self.base_dir / "data"
        self.socket_dir = self.base_dir / "socket"
        self.socket_dir.mkdir(exist_ok=True)
        # PostgreSQL refuses to run as root, so root hands the server and its files to the `postgres` account.
        self._as_user: dict[str, Any] = {}
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            self._as_user = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
            for path in (self.base_dir, self.socket_dir):
                os.chown(path, account.pw_uid, account.pw_gid)

    @property
    def url(self) -> str:
        """`postgresql://` URL of the password user's database over TCP."""
        return self.database_url(self.database)

    def database_url(self, database: str) -> str:
        """Return the URL of `database` on this server as the password user."""
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def admin_connection(self, database: str = "postgres") -> psycopg2.extensions.connection:
        """Connect as the superuser over the unix socket, in autocommit mode; the caller closes it."""
        conn = psycopg2.connect(host=str(self.socket_dir), port=self.port, user="postgres", dbname=database)
        conn.autocommit = True
        return conn

    def create_database(self, database: str) -> str:
        """Create an empty database owned by the password user and return its URL."""
        with contextlib.closing(self.admin_connection()) as conn, conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{database}" OWNER "{self.user}"')
        return self.database_url(database)

    def drop_database(self, database: str) -> None:
        """Drop `database`, disconnecting any client still on it."""
        with contextlib.closing(self.admin_connection()) as conn, conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    def _launch(self) -> None:
        env = _clean_env("PG")
        if not (self.data_dir / "PG_VERSION").exists():
            argv = [self._initdb, "-D", str(self.data_dir), "-U", "postgres", "--auth-local=trust"]
            argv += ["--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"]
            done = subprocess.run(argv, capture_output=True, text=True, env=env, **self._as_user)
            if done.returncode != 0:
                raise ServiceError(f"initdb failed with code {done.returncode}:\n{done.stdout}{done.stderr}")
        # Skipping fsync makes DDL-heavy fixtures much faster and only risks data if the OS crashes: a killed
        # server still recovers every commit. (synchronous_commit=off would lose the last commits on a kill.)
        settings = {"fsync": "off", "full_page_writes": "off", "max_connections": "200"}
        argv = [self._postgres, "-D", str(self.data_dir), "-h", "127.0.0.1", "-p", str(self.port)]
        argv += ["-k", str(self.socket_dir), *(arg for k, v in settings.items() for arg in ("-c", f"{k}={v}"))]
        # SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for every client to disconnect.
        self._spawn(argv, "postgres.log", signal.SIGINT, env=env, **self._as_user)

    def _probe(self) -> None:
        self.admin_connection().close()

    def _after_ready(self) -> None:
        with contextlib.closing(self.admin_connection()) as conn, conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (self.user,))
            if cur.fetchone() is None:
                cur.execute(f"CREATE ROLE \"{self.user}\" LOGIN CREATEDB PASSWORD '{self.password}'")
                cur.execute(f'CREATE DATABASE "{self.database}" OWNER "{self.user}"')
        psycopg2.connect(self.url, connect_timeout=5).close()  # proves TCP and password auth, not just the socket


class RedisServer(Server):
    """Redis without persistence."""

    name = "redis"

    def __init__(self, base_dir: Path | None = None) -> None:
        self._redis_server = find_binary("redis-server")  # before the directory, as for PostgresServer
        super().__init__(base_dir)

    @property
    def url(self) -> str:
        """`redis://` URL of database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def _launch(self) -> None:
        argv = [self._redis_server, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.base_dir)]
        argv += ["--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", ""]
        self._spawn(argv, "redis.log", signal.SIGTERM)

    def _probe(self) -> None:
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=1)
        try:
            client.ping()
        finally:
            client.close()


class RabbitMQServer(Server):
    """A RabbitMQ node with no plugins, its own epmd and its own Erlang cookie.

    The `guest` user works because every client connects over loopback.
    """

    name = "rabbitmq"

    def __init__(self, base_dir: Path | None = None) -> None:
        # Run the package's real script: Debian's /usr/sbin wrapper would `su rabbitmq`, which cannot
        # write our directory and would put the node out of reach of our process group.
        self._server_script = find_binary("rabbitmq-server", "/usr/lib/rabbitmq/bin/rabbitmq-server")
        self._epmd = find_binary("epmd", "/usr/lib/erlang/bin/epmd", "/usr/lib/erlang/erts-*/bin/epmd")
        super().__init__(base_dir)
        self.port, self.epmd_port, self.dist_port = free_ports(3)  # replaces the base class's single port
        self.node_name = f"computalot-{self.port}@localhost"
        (self.base_dir / "rabbitmq-env.conf").write_text("")
        (self.base_dir / "rabbitmq.config").write_text("[].\n")
        (self.base_dir / "enabled_plugins").write_text("[].\n")

    @property
    def url(self) -> str:
        """`amqp://` URL of the default vhost as `guest`."""
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"

    def _launch(self) -> None:
        # Erlang would otherwise start a shared epmd daemon on port 4369 that outlives us; ours is a plain
        # child on its own port, and -start_epmd false makes the node fail rather than spawn another.
        self._spawn([self._epmd, "-port", str(self.epmd_port), "-address", "127.0.0.1"], "epmd.log", signal.SIGTERM)
        self._wait_for_port(self.epmd_port)
        base = self.base_dir
        env = _clean_env("RABBITMQ_", "ERL_EPMD_") | {
            "HOME": str(base),  # the Erlang cookie is written here
            "ERL_EPMD_PORT": str(self.epmd_port),
            "RABBITMQ_NODENAME": self.node_name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONF_ENV_FILE": str(base / "rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.config"),  # classic format: no schema translation step
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(base / "advanced.config"),  # absent, so /etc is never read
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_PID_FILE": str(base / "rabbitmq.pid"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-start_epmd false -kernel inet_dist_use_interface {127,0,0,1}",
        }
        self._spawn([self._server_script], "rabbitmq.out", signal.SIGTERM, env=env, cwd=base)

    def _wait_for_port(self, port: int, timeout_s: float = 10.0) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError as exc:
                if time.monotonic() > deadline or self._processes[-1].popen.poll() is not None:
                    raise ServiceError(f"epmd not listening on port {port}: {exc!r}\n{self.log_tail()}") from exc
            time.sleep(_POLL_S)

    def _probe(self) -> None:
        # Check the port first: pika logs every refused connection at ERROR, which would bury real failures.
        socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        params = pika.URLParameters(self.url)
        params.connection_attempts, params.socket_timeout = 1, 2
        pika.BlockingConnection(params).close()

    def _log_paths(self) -> list[Path]:
        return [*super()._log_paths(), self.base_dir / "log" / f"{self.node_name}.log"]


def start_postgres(base_dir: Path | None = None, timeout_s: float = READY_TIMEOUT_S) -> PostgresServer:
    """Start PostgreSQL; `base_dir` must be reachable by the `postgres` account when running as root."""
    return PostgresServer(base_dir).start(timeout_s)


def start_redis(base_dir: Path | None = None, timeout_s: float = READY_TIMEOUT_S) -> RedisServer:
    """Start Redis in `base_dir`, or in a new temporary directory."""
    return RedisServer(base_dir).start(timeout_s)


def start_rabbitmq(base_dir: Path | None = None, timeout_s: float = READY_TIMEOUT_S) -> RabbitMQServer:
    """Start RabbitMQ in `base_dir`, or in a new temporary directory."""
    return RabbitMQServer(base_dir).start(timeout_s)
