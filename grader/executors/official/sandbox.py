"""The bubblewrap sandbox one submission runs in, and the host-side tools around it.

Contract of a sandbox started by :func:`start_sandbox` (the measures come from
``shared/research/grader-security.md`` section 2, which tested each one on this machine):

- **Network**: a private network namespace with only loopback (``--unshare-net``). Nothing on the
  host or outside is reachable; the trusted checks join this namespace with ``nsenter``.
- **User**: the process runs as ``20001 + slot`` with no capabilities, no supplementary groups
  and ``no_new_privs`` (``setpriv``). bwrap itself starts as root so that it can do the
  mounts. A uid per concurrent job matters because ``RLIMIT_NPROC`` counts processes per real uid.
- **Files**: ``/usr`` and the Python runtime are read-only, and the runtime is bound at its
  *real* path. The pyenv interpreter finds libpython through RUNPATH, and bound anywhere else it
  silently loads Debian's libpython instead. ``/tmp`` and the workspace ``/submission`` are
  private, size-capped tmpfs mounts. The staged copy is read-only at ``/grader/source``, the
  agent and the grader's standalone helper files (:data:`HELPER_MODULES`: rows, background work,
  a Redis server, a production server and log capture; no hidden checks in them) are read-only
  under ``/grader``. Nothing else from the host is visible: not the course, not the hidden
  checks, not ``/etc/shadow``.
- **Processes**: a pid namespace of its own (``--unshare-pid``). Killing bwrap kills its init
  and with it every process inside, including ones that called ``setsid``.
  ``--die-with-parent`` and a parent-death signal on bwrap tie the sandbox to the grader's
  life. ``--new-session`` prevents terminal injection.
- **Limits**: rlimits on CPU seconds, address space, processes, file size and open files.
  Output goes to a log file the learner never sees, capped by ``RLIMIT_FSIZE``.
- **Environment**: ``--clearenv`` and only the variables given.

Official mode needs Linux, root, and the ``bwrap``, ``setpriv`` and ``nsenter`` commands
(Debian: ``bubblewrap`` and ``util-linux``). :func:`official_unavailable_reason` says which is
missing, in one sentence.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil

from grader.errors import UsageError
from grader.executors.official.keyrings import clear_uid_keyrings, join_fresh_session_keyring

FIRST_UID = 20001
SLOTS = 32
SLOT_DIR = Path("/run/blogcraft-grader-slots")
SOURCE_MOUNT = "/grader/source"
AGENT_MOUNT = "/grader/agent.py"
WORKSPACE = "/submission"
AGENT_FILE = Path(__file__).with_name("agent.py")
HELPERS_MOUNT = "/grader/grader_data.py"
# The grader's standalone helper files the agent loads by path in the sandbox (none imports the
# grader's package, and none holds a hidden check), by where they are mounted.
HELPER_MODULES = {
    HELPERS_MOUNT: "grader.executors.harness.data",  # rows, model facts
    "/grader/grader_taskwork.py": "grader.executors.harness.taskwork",  # worker, mail, commits
    "/grader/grader_redis.py": "grader.redisserver",  # the sandbox's own Redis
    # lab10: Gunicorn with the production settings, and the project's log lines
    "/grader/grader_production.py": "grader.executors.harness.production",
}


def helper_file(module: str) -> Path:
    """The file of one of :data:`HELPER_MODULES`, found without importing it here."""
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:  # the grader's own package is incomplete
        raise RuntimeError(f"{module} is missing from the grader's install")
    return Path(spec.origin)


_PR_SET_PDEATHSIG = 1
_MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Resource limits of every process in one sandbox (rlimits are per process, except
    ``processes``, which counts every process and thread of the sandbox's uid)."""

    cpu_seconds: int = 180
    address_space: int = 2048 * _MiB
    processes: int = 128
    file_size: int = 16 * _MiB
    open_files: int = 256
    tmp_bytes: int = 64 * _MiB
    workspace_bytes: int = 128 * _MiB


@dataclass(frozen=True)
class SandboxSpec:
    """Everything needed to start a sandbox for one job; JSON-serialisable on purpose."""

    uid: int
    source: str  # the staged copy on the host, bound read-only
    python: str  # the interpreter to run inside, at its host path
    runtime: tuple[str, ...]  # host folders bound read-only at their real paths
    etc_dir: str  # small synthetic /etc files (passwd, group, hosts)
    log_file: str  # the sandbox's stdout and stderr (never shown to learners)
    limits: Limits = field(default_factory=Limits)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SandboxSpec:
        return cls(
            uid=int(data["uid"]),
            source=str(data["source"]),
            python=str(data["python"]),
            runtime=tuple(str(p) for p in data["runtime"]),
            etc_dir=str(data["etc_dir"]),
            log_file=str(data["log_file"]),
            limits=Limits(**data["limits"]),
        )


# --- availability -------------------------------------------------------------------------------


def _tool(name: str) -> str | None:
    return shutil.which(name, path=os.environ.get("PATH", os.defpath))


@functools.lru_cache(maxsize=1)
def _bwrap_works(bwrap: str) -> str | None:
    """Start one trivial sandbox; None if it works, else bwrap's complaint (one line)."""
    try:
        done = subprocess.run(
            [bwrap, "--ro-bind", "/", "/", "--unshare-net", "--unshare-pid", "--", "true"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if done.returncode == 0:
        return None
    return (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]


def official_unavailable_reason() -> str | None:
    """Why official grading cannot run on this machine (one sentence), or None if it can."""
    hint = "grade without --official to use local mode."
    if not sys.platform.startswith("linux"):
        return f"Official grading needs Linux with bubblewrap; this is {sys.platform}: {hint}"
    if os.geteuid() != 0:
        return (
            "Official grading must run as root (it gives each sandbox a user id of its own); "
            f"run it with sudo on the grading machine, or {hint}"
        )
    missing = [name for name in ("bwrap", "setpriv", "nsenter") if _tool(name) is None]
    if missing:
        return (
            f"Official grading needs bubblewrap, and this machine lacks {', '.join(missing)}: "
            f"install them with `apt-get install bubblewrap util-linux`, or {hint}"
        )
    complaint = _bwrap_works(str(_tool("bwrap")))
    if complaint:
        return f"bubblewrap is installed but cannot start a sandbox here ({complaint}); {hint}"
    return None


def require_official() -> None:
    """Raise a one-line :class:`UsageError` (exit 2) when official grading cannot run here."""
    reason = official_unavailable_reason()
    if reason:
        raise UsageError(reason)


# --- job slots: one uid per concurrent job --------------------------------------------------------


def kill_uid(uid: int) -> int:
    """SIGKILL every process whose real uid is ``uid``; return how many there were.

    Sandbox uids belong to the grader alone, so anything still running as one after its job
    ended is a leftover (the pid namespace should already have taken it down; this is the
    second line of defence)."""
    victims = []
    for proc in psutil.process_iter(["uids"]):
        uids = proc.info.get("uids")
        if uids is not None and uids.real == uid:
            victims.append(proc)
    for proc in victims:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(victims, timeout=2)
    return len(victims)


@contextlib.contextmanager
def job_slot(deadline: float) -> Iterator[int]:
    """Hold one of :data:`SLOTS` job slots (an exclusive ``flock``) and yield its uid.

    The lock lives in a root-only folder at a fixed path (not ``$TMPDIR``, which differs between
    processes: two graders must agree on which uids are taken). The kernel releases the lock if
    the grader dies, so a crashed run never blocks a slot. Leftover processes of the uid are
    killed, and its keyrings emptied (:mod:`grader.executors.official.keyrings`), on entry and
    exit.
    """
    folder = SLOT_DIR if SLOT_DIR.parent.is_dir() else Path(tempfile.gettempdir()) / SLOT_DIR.name
    folder.mkdir(mode=0o700, exist_ok=True)
    while True:
        for slot in range(SLOTS):
            handle = (folder / f"slot-{slot:02d}.lock").open("a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            uid = FIRST_UID + slot
            try:
                kill_uid(uid)
                clear_uid_keyrings(uid)  # nothing of an earlier job's keys reaches this one
                yield uid
            finally:
                kill_uid(uid)
                clear_uid_keyrings(uid)
                handle.close()  # releases the lock
            return
        if time.monotonic() > deadline:
            raise TimeoutError("every grading slot stayed busy")
        time.sleep(0.2)


# --- the command line -----------------------------------------------------------------------------


def runtime_paths() -> tuple[str, ...]:
    """Host folders the interpreter needs, outermost first, outside ``/usr`` (bound anyway).

    The running interpreter's prefixes and the folder its executable really lives in, both
    as given and resolved: a virtualenv's ``bin/python`` is a symlink into the base install.
    """
    found: set[str] = set()
    for path in (
        sys.prefix,
        sys.exec_prefix,
        sys.base_prefix,
        sys.base_exec_prefix,
        str(Path(sys.executable).parent),
    ):
        for candidate in (os.path.abspath(path), os.path.realpath(path)):
            if candidate != "/" and not _under(candidate, "/usr"):
                found.add(candidate)
    outermost = [p for p in found if not any(p != q and _under(p, q) for q in found)]
    return tuple(sorted(outermost))


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def write_etc(folder: Path, uid: int) -> None:
    """The few ``/etc`` files a Python program may look at, so the host's are never exposed."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "passwd").write_text(
        f"root:x:0:0:root:/root:/usr/sbin/nologin\ngrader:x:{uid}:{uid}:sandbox:/tmp:/bin/false\n"
    )
    (folder / "group").write_text(f"root:x:0:\ngrader:x:{uid}:\n")
    (folder / "hosts").write_text("127.0.0.1 localhost\n::1 localhost\n")
    (folder / "nsswitch.conf").write_text("passwd: files\ngroup: files\nhosts: files\n")


def _mount_parents(path: str, made: set[str]) -> list[str]:
    """``--dir`` for every missing parent of ``path``, mode 0755: bwrap would create them 0700,
    which the unprivileged sandbox user could not traverse."""
    args: list[str] = []
    parts = Path(path).parts[1:-1]
    current = ""
    for part in parts:
        current += "/" + part
        if current in made or _under(current, "/usr") or current == "/tmp":
            continue
        made.add(current)
        args += ["--perms", "0755", "--dir", current]
    return args


def bwrap_argv(
    spec: SandboxSpec,
    command: Sequence[str],
    env: Mapping[str, str],
    *,
    info_fd: int | None = None,
    binds: Sequence[tuple[str, str, bool]] = (),
) -> list[str]:
    """The full ``bwrap … -- setpriv … python …`` command line for ``command`` (agent args).

    ``binds`` adds ``(host path, path inside, writable)`` mounts under ``/grader`` (the
    learner-tests gate: the grader's package read-only, a folder for its report writable)."""
    bwrap, setpriv = _tool("bwrap"), _tool("setpriv")
    if bwrap is None or setpriv is None:
        raise UsageError(official_unavailable_reason() or "bwrap is not installed")
    limits = spec.limits
    argv = [
        bwrap,
        "--die-with-parent",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--new-session",
        "--hostname",
        "sandbox",
        "--clearenv",
        "--ro-bind",
        "/usr",
        "/usr",
    ]
    for name in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(name):  # Debian 12 is merged-/usr: these are links into /usr
            argv += ["--symlink", os.readlink(name), name]
        elif os.path.isdir(name):
            argv += ["--ro-bind", name, name]
    argv += ["--proc", "/proc", "--dev", "/dev"]
    argv += ["--perms", "1777", "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp"]
    made: set[str] = set()
    for path in spec.runtime:
        argv += _mount_parents(path, made)
        argv += ["--ro-bind", path, path]
    argv += ["--perms", "0755", "--dir", "/etc"]
    for name in ("passwd", "group", "hosts", "nsswitch.conf"):
        argv += ["--ro-bind", str(Path(spec.etc_dir) / name), f"/etc/{name}"]
    for name in ("/etc/ld.so.cache", "/etc/localtime"):
        argv += ["--ro-bind-try", name, name]
    argv += [
        "--perms",
        "0755",
        "--dir",
        "/grader",
        "--ro-bind",
        spec.source,
        SOURCE_MOUNT,
        "--ro-bind",
        str(AGENT_FILE),
        AGENT_MOUNT,
    ]
    for inside, module in HELPER_MODULES.items():
        argv += ["--ro-bind", str(helper_file(module)), inside]
    for host, inside, writable in binds:
        if not inside.startswith("/grader/"):
            raise ValueError(f"extra sandbox mounts go under /grader, not {inside}")
        argv += _mount_parents(inside, made)
        argv += ["--bind" if writable else "--ro-bind", host, inside]
    argv += [
        "--perms",
        "1777",
        "--size",
        str(limits.workspace_bytes),
        "--tmpfs",
        WORKSPACE,
        "--chdir",
        WORKSPACE,
    ]
    for key, value in env.items():
        argv += ["--setenv", key, value]
    if info_fd is not None:
        argv += ["--info-fd", str(info_fd)]
    argv += [
        "--",
        setpriv,
        f"--reuid={spec.uid}",
        f"--regid={spec.uid}",
        "--clear-groups",
        "--no-new-privs",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--",
        spec.python,
        "-I",
        "-B",
        AGENT_MOUNT,
        *command,
    ]
    return argv


def limit_sandbox(limits: Limits) -> None:
    """Runs in bwrap's process between fork and exec: parent-death signal and rlimits."""
    import resource

    # Die with the grader: without this, a killed grader would leave bwrap (and the sandbox)
    # running; --die-with-parent only ties the sandbox to bwrap.
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    # A new, empty session keyring: the grader's own (a service's, a login's) is never inherited.
    join_fresh_session_keyring()
    for name, value in (
        ("RLIMIT_CPU", limits.cpu_seconds),
        ("RLIMIT_AS", limits.address_space),
        ("RLIMIT_NPROC", limits.processes),  # root (bwrap) is exempt; the sandbox uid is not
        ("RLIMIT_FSIZE", limits.file_size),
        ("RLIMIT_NOFILE", limits.open_files),
        ("RLIMIT_CORE", 0),
    ):
        resource.setrlimit(getattr(resource, name), (value, value))


@dataclass
class Sandbox:
    """A running sandbox. ``pid`` is its first process in the host's pid namespace (from
    ``--info-fd``); ``status`` is the read end of the agent's one-line JSON channel."""

    proc: subprocess.Popen[bytes]
    pid: int
    status: IO[bytes]

    @property
    def netns(self) -> str:
        return f"/proc/{self.pid}/ns/net"

    def kill(self) -> None:
        """End the sandbox: killing bwrap takes its pid namespace, and every process in it,
        down with it."""
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        self.proc.wait()
        self.status.close()


def start_sandbox(
    spec: SandboxSpec, command: Sequence[str], env: Mapping[str, str], *, timeout: float
) -> Sandbox:
    """Start the agent with ``command`` in a new sandbox; return once its pid is known.

    The agent gets the write end of a pipe as its status channel; its number is appended to
    ``command`` as ``--status-fd N``.
    """
    info_r, info_w = os.pipe()
    status_r, status_w = os.pipe()
    argv = bwrap_argv(spec, [*command, "--status-fd", str(status_w)], env, info_fd=info_w)
    limits = spec.limits
    with open(spec.log_file, "ab") as log:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=(info_w, status_w),
            start_new_session=True,
            preexec_fn=functools.partial(limit_sandbox, limits),
        )
    os.close(info_w)
    os.close(status_w)
    status = os.fdopen(status_r, "rb", buffering=0)
    try:
        info = _read_info(info_r, timeout)
    except Exception:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait()
        status.close()
        raise
    return Sandbox(proc=proc, pid=info, status=status)


def _read_info(fd: int, timeout: float) -> int:
    """bwrap's ``--info-fd`` document: ``{"child-pid": N, ...}``, written once, then closed."""
    import select

    data = b""
    end = time.monotonic() + timeout
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], max(0.0, end - time.monotonic()))
            if not ready:
                raise RuntimeError("bubblewrap did not report its sandbox in time")
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(fd)
    try:
        pid = json.loads(data)["child-pid"]
    except (ValueError, KeyError, TypeError):
        raise RuntimeError(f"bubblewrap did not start the sandbox: {data[:200]!r}") from None
    if type(pid) is not int:
        raise RuntimeError("bubblewrap reported no child pid")
    return pid
