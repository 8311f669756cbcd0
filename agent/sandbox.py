"""The OS sandbox of a project task attempt: bubblewrap, an unprivileged uid, fresh namespaces, kernel limits.

Each attempt gets a cell: a directory of its own under the sandbox root holding a private copy of the
revision tree (`/work` inside), its runner files (`/task`: payload, result, artifacts) and, with
checkpointing, its checkpoint directory (`/checkpoint`). bubblewrap then runs the command in new user,
pid, ipc, uts, mount, cgroup and network namespaces, as uid 65534 inside and an unprivileged host uid
of the agent's range outside, seeing only read-only system directories, its cell and a private `/tmp`.
"""

from __future__ import annotations

import contextlib
import glob
import json
import logging
import os
import shutil
import signal
import stat
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

logger = logging.getLogger(__name__)

#: Where the attempt's copy of the revision tree, its runner files and its checkpoints appear inside.
WORK, TASK, CHECKPOINT = "/work", "/task", "/checkpoint"
#: The uid and gid a task has inside its sandbox ("nobody"); outside it is a uid of the agent's range.
SANDBOX_UID = 65534
#: PATH inside the sandbox (the host's system directories, read-only).
PATH = "/usr/local/bin:/usr/bin:/bin"
#: Host directories mounted read-only (or re-created as the same symbolic link) when they exist.
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
#: The parts of /etc programs need: users, name resolution, the dynamic linker, locale, certificates.
ETC_ENTRIES = (
    "alternatives",
    "ca-certificates",
    "group",
    "host.conf",
    "hosts",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "mime.types",
    "nsswitch.conf",
    "os-release",
    "passwd",
    "protocols",
    "services",
    "ssl",
)
#: GPU device nodes handed to tasks of GPU presets (NVIDIA's and the DRM render nodes), when the host has them.
GPU_DEVICES = ("/dev/nvidia*", "/dev/nvidia-caps", "/dev/dri")
#: Exit statuses above this are a death by signal (status - 128), as bubblewrap reports them.
SIGNAL_BASE = 128
MIB = 1 << 20


class SandboxError(Exception):
    """The sandbox cannot be set up on this host; the message says why and what to install or change."""


@dataclass(frozen=True)
class Limits:
    """Kernel limits of one attempt (setrlimit through prlimit, inside the sandbox)."""

    #: address space (RLIMIT_AS) from the task's preset; None: unlimited (GPU drivers map huge ranges)
    memory_mb: int | None
    nproc: int = 512
    fsize_mb: int = 16384
    cpu_s: int | None = None

    def prlimit_argv(self) -> list[str]:
        """`prlimit` and its options, ready to prefix a command."""
        argv = ["/usr/bin/prlimit", f"--nproc={self.nproc}", f"--fsize={self.fsize_mb * MIB}"]
        if self.memory_mb is not None:
            argv.append(f"--as={self.memory_mb * MIB}")
        if self.cpu_s is not None:
            # SIGXCPU at the soft limit, SIGKILL 5 s later
            argv.append(f"--cpu={self.cpu_s}:{self.cpu_s + 5}")
        return [*argv, "--"]


#: Output markers of a process that could not get memory under RLIMIT_AS (Python, glibc, C++).
_OOM_MARKERS = ("MemoryError", "Cannot allocate memory", "std::bad_alloc", "out of memory")
#: Output marker of a write refused by RLIMIT_FSIZE where SIGXFSZ is ignored (Python ignores it).
_FSIZE_MARKER = "File too large"


def limit_breach(limits: Limits, exit_code: int, tail: str) -> tuple[str, str] | None:
    """(error_code, error) when a failed attempt most likely hit one of its limits, else None."""
    last = tail[-2048:]
    if exit_code == -signal.SIGXFSZ or _FSIZE_MARKER in last:
        return "resource_limit_exceeded", f"the task wrote a file past its size limit ({limits.fsize_mb} MiB)"
    if exit_code == -signal.SIGXCPU:
        return "resource_limit_exceeded", f"the task used its CPU time limit ({limits.cpu_s} s)"
    if limits.memory_mb is not None and any(marker in last for marker in _OOM_MARKERS):
        return "out_of_memory", f"the task ran out of memory (its address-space limit is {limits.memory_mb} MiB)"
    if "Resource temporarily unavailable" in last and "fork" in last:  # EAGAIN from fork: RLIMIT_NPROC
        return "resource_limit_exceeded", f"the task hit its process limit ({limits.nproc} processes)"
    return None


def wait_status(returncode: int) -> int:
    """bubblewrap's exit status as Popen would report the command's: 128+N means killed by signal N."""
    if SIGNAL_BASE < returncode <= SIGNAL_BASE + 64:
        return SIGNAL_BASE - returncode
    return returncode


class Started:
    """A running sandbox: its bubblewrap process and how to stop what runs inside."""

    def __init__(self, proc: subprocess.Popen[bytes], inner_pid: int | None) -> None:
        self.proc = proc
        #: host pid of the sandbox's init; the command runs in its process group
        self.inner_pid = inner_pid

    def terminate(self) -> None:
        """SIGTERM the command's process group (bubblewrap itself stays, to report its status)."""
        target = self.inner_pid or self.proc.pid
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(target, signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL bubblewrap: the sandbox's init dies with it, and the kernel kills every process left inside."""
        for target in (self.proc.pid, self.inner_pid):
            if target:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(target, signal.SIGKILL)


@dataclass(frozen=True)
class Cell:
    """One attempt's sandbox: its host directory, host uid, limits and mounts."""

    sandbox: Sandbox
    root: Path
    uid: int | None
    workdir: str
    limits: Limits
    checkpoint: Path | None = None
    #: whether the host's GPU device nodes are visible (tasks of GPU presets)
    gpu: bool = False

    @property
    def work(self) -> Path:
        """Host path of the attempt's private copy of the revision tree (`/work` inside)."""
        return self.root / "work"

    @property
    def task(self) -> Path:
        """Host path of the runner files (`/task` inside)."""
        return self.root / "task"

    @property
    def log(self) -> Path:
        """Host path of the output log (outside every mount: the task cannot replace it)."""
        return self.root / "output.log"

    @property
    def inner_workdir(self) -> str:
        """The command's working directory inside the sandbox."""
        return str(PurePosixPath(WORK) / self.workdir)

    def host_workdir(self) -> Path:
        """The command's working directory on the host."""
        return self.work / self.workdir

    def base_env(self) -> dict[str, str]:
        """The variables every task sees besides the runner protocol's (never the agent's own)."""
        env = {
            "PATH": PATH,
            "HOME": "/tmp",
            "TMPDIR": "/tmp",
            "LANG": "C.UTF-8",
            "USER": "nobody",
            "LOGNAME": "nobody",
            "PYTHONUNBUFFERED": "1",
        }
        if self.checkpoint is not None:
            env["COMPUTALOT_CHECKPOINT_DIR"] = CHECKPOINT
        return env

    def resolve(self, program: str) -> None:
        """Raise FileNotFoundError unless `program` would be found inside the sandbox."""
        if "/" not in program:
            if any((Path(d) / program).is_file() for d in PATH.split(":")):
                return
        elif self._host_path(PurePosixPath(self.inner_workdir) / program).is_file():
            return
        raise FileNotFoundError(f"no such program in the sandbox: {program}")

    def _host_path(self, inner: PurePosixPath) -> Path:
        parts = PurePosixPath(os.path.normpath(inner)).parts
        if parts[:2] == ("/", WORK.strip("/")):
            return self.work.joinpath(*parts[2:])
        return Path(*parts)

    def start(self, command: tuple[str, ...], env: dict[str, str]) -> Started:
        """Start `command` in the sandbox with exactly `env` (plus `base_env`), its output piped."""
        self.resolve(command[0])
        options = self.sandbox.options(self, {**self.base_env(), **env})
        if any("\0" in option for option in options):
            # bubblewrap reads its options NUL-separated: one inside a value would become an option of its own
            raise ValueError("embedded null byte in the sandbox's options")
        args_fd = os.memfd_create("bwrap-args")
        info_r, info_w = os.pipe()
        try:
            os.write(args_fd, b"".join(arg.encode() + b"\0" for arg in options))
            os.lseek(args_fd, 0, os.SEEK_SET)
            argv = [
                self.sandbox.bwrap,
                "--args",
                str(args_fd),
                "--info-fd",
                str(info_w),
                "--",
                *self.limits.prlimit_argv(),
                *command,
            ]
            proc = subprocess.Popen(
                argv,
                cwd="/",
                env={},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                pass_fds=(args_fd, info_w),
                **self.sandbox.credentials(self.uid),
            )
        finally:
            os.close(args_fd)
            os.close(info_w)
        return Started(proc, _read_inner_pid(info_r))


def _read_inner_pid(info_r: int) -> int | None:
    """bubblewrap writes its info (the sandbox init's host pid) once the namespaces exist, then closes it."""
    data = b""
    try:
        while chunk := os.read(info_r, 4096):
            data += chunk
    finally:
        os.close(info_r)
    try:
        return int(json.loads(data)["child-pid"])
    except (ValueError, KeyError, TypeError):
        return None


class Sandbox:
    """The agent's sandbox: checks the host can build it, hands out cells with a uid of its range each."""

    def __init__(
        self,
        root: Path,
        uid_base: int,
        uid_count: int,
        ro_paths: tuple[Path, ...] = (),
        bwrap: str = "bwrap",
    ) -> None:
        self.root = root
        #: checkpoint directories, by task id: beside the agents' roots, so that they outlive an agent's restart
        self.checkpoints = root.parent / "checkpoints"
        self.ro_paths = ro_paths
        self.bwrap = shutil.which(bwrap) or bwrap
        #: host uids are switched to only when the agent can (as root); otherwise the agent's own uid is used
        self._free = list(range(uid_base, uid_base + uid_count)) if os.geteuid() == 0 else []
        self._lock = threading.Lock()

    # -- the host ------------------------------------------------------------------------------------------------

    def check(self) -> None:
        """Raise SandboxError (saying why) unless a sandboxed command runs on this host."""
        if not os.path.isfile(self.bwrap):
            raise SandboxError(
                "bubblewrap (`bwrap`) is not installed; install the Debian package `bubblewrap` "
                "(tasks are never run outside a sandbox unless the agent gets --unsafe-no-sandbox)"
            )
        if not os.path.isfile("/usr/bin/prlimit"):
            raise SandboxError("/usr/bin/prlimit (util-linux) is missing; it applies each task's kernel limits")
        self._make_root()
        cell = self.open("probe", None, ".", Limits(memory_mb=None))
        try:
            started = cell.start(("/bin/true",), {})
            _, stderr = started.proc.communicate(timeout=30)
        except (OSError, subprocess.SubprocessError) as exc:
            raise SandboxError(f"bubblewrap could not start a sandbox: {exc}") from None
        finally:
            self.close(cell)
        if started.proc.returncode != 0:
            said = stderr.decode(errors="replace").strip()
            raise SandboxError(
                f"bubblewrap could not create the task sandbox ({said or f'exit {started.proc.returncode}'}); "
                "it needs unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, "
                "user.max_user_namespaces > 0)"
            )

    def _make_root(self) -> None:
        """The sandbox root and its parent: the agent's, traversable (not listable) by the sandbox uids."""
        self.root.mkdir(parents=True, exist_ok=True)
        for directory in (self.root.parent, self.root):
            info = directory.lstat()
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
                raise SandboxError(f"{directory} must be a directory of the agent's user that no one else can write")
        self.root.chmod(0o711)
        # bubblewrap runs as a sandbox uid: it must be able to reach the cells it mounts
        for parent in self.root.resolve().parents:
            if not parent.stat().st_mode & 0o001:
                raise SandboxError(f"the sandbox uids cannot reach {self.root}: {parent} is not searchable by others")

    def credentials(self, uid: int | None) -> dict[str, Any]:
        """Popen arguments switching to `uid` (and its own group), with no supplementary groups."""
        if uid is None:
            return {}
        return {"user": uid, "group": uid, "extra_groups": []}

    # -- cells ---------------------------------------------------------------------------------------------------

    def open(
        self, name: str, tree: Path | None, workdir: str, limits: Limits, checkpoint: str = "", gpu: bool = False
    ) -> Cell:
        """A cell for one attempt: a private copy of `tree`, its runner directory and its checkpoint dir.

        Raises:
          SandboxError: `workdir` leaves the tree (the controller refuses such manifests; checked again here
            because the agent, as root, places inputs under it).
        """
        if os.path.isabs(workdir) or os.path.normpath(workdir).split(os.sep)[0] == "..":
            raise SandboxError(f"runtime.workdir {workdir!r} leaves the project tree")
        uid = self._acquire()
        root = self.root / name
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(mode=0o711)
        try:
            if tree is not None:
                shutil.copytree(tree, root / "work", symlinks=True)
            else:
                (root / "work").mkdir()
            (root / "task" / "artifacts").mkdir(parents=True)
            ckpt = None
            if checkpoint:
                ckpt = self.checkpoints / checkpoint
                ckpt.mkdir(parents=True, exist_ok=True)
                _own(ckpt, uid)
            _own(root / "work", uid)
            _own(root / "task", uid)
        except BaseException:
            self._release(uid)
            shutil.rmtree(root, ignore_errors=True)
            raise
        return Cell(self, root, uid, workdir, limits, ckpt, gpu)

    def close(self, cell: Cell) -> None:
        """Remove the cell's directory and return its uid to the range."""
        shutil.rmtree(cell.root, ignore_errors=True)
        self._release(cell.uid)

    def remove(self) -> None:
        """Remove the sandbox root when nothing is left in it (checkpoints stay for a restart with this agent id)."""
        with contextlib.suppress(OSError):
            self.root.rmdir()

    def _acquire(self) -> int | None:
        with self._lock:
            if not self._free and os.geteuid() == 0:
                raise SandboxError("every sandbox uid of this agent is in use")
            return self._free.pop(0) if self._free else None

    def _release(self, uid: int | None) -> None:
        if uid is not None:
            with self._lock:
                self._free.append(uid)

    def options(self, cell: Cell, env: dict[str, str]) -> list[str]:
        """bubblewrap's options for `cell`: namespaces, identity, environment, mounts, working directory."""
        options = [
            "--unshare-all",
            "--unshare-user",
            "--disable-userns",
            "--die-with-parent",
            "--new-session",
            "--uid",
            str(SANDBOX_UID),
            "--gid",
            str(SANDBOX_UID),
            "--hostname",
            "computalot",
            "--clearenv",
        ]
        for name, value in env.items():
            options += ["--setenv", name, value]
        options += self._system_mounts()
        for path in self.ro_paths:
            options += ["--ro-bind", str(path), str(path)]
        size = (cell.limits.memory_mb or 1024) * MIB
        options += ["--proc", "/proc", "--dev", "/dev", "--size", str(size), "--tmpfs", "/tmp"]
        for device in sorted({path for pattern in GPU_DEVICES for path in glob.glob(pattern)}) if cell.gpu else ():
            options += ["--dev-bind", device, device]
        options += ["--bind", str(cell.work), WORK, "--bind", str(cell.task), TASK]
        if cell.checkpoint is not None:
            options += ["--bind", str(cell.checkpoint), CHECKPOINT]
        return [*options, "--remount-ro", "/", "--chdir", cell.inner_workdir]

    @staticmethod
    def _system_mounts() -> list[str]:
        options = []
        for entry in SYSTEM_DIRS:
            if os.path.islink(entry):
                options += ["--symlink", os.readlink(entry), entry]
            elif os.path.isdir(entry):
                options += ["--ro-bind", entry, entry]
        for name in ETC_ENTRIES:
            options += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
        return options


def _own(top: Path, uid: int | None) -> None:
    """Give `top` and everything under it to `uid` (nothing to do when the agent cannot switch uids)."""
    if uid is None:
        return
    os.lchown(top, uid, uid)
    for parent, dirs, files in os.walk(top):
        for name in dirs + files:
            os.lchown(os.path.join(parent, name), uid, uid)


def own_directories(top: Path, uid: int | None) -> None:
    """Give the directories under `top` to `uid`, leaving files alone (placed inputs stay the agent's)."""
    if uid is None:
        return
    for parent, dirs, _ in os.walk(top):
        for name in dirs:
            os.lchown(os.path.join(parent, name), uid, uid)
