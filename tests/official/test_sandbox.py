"""The sandbox's contract, observed from inside, and official mode's command line.

``test_the_sandbox_from_inside`` runs a settings probe (the same sandbox as every official
probe) on a module that gathers facts about its own process: uid, capabilities, limits, network,
files, environment, and which libpython it loaded. Each fact is then asserted on the host.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from grader.errors import UsageError
from grader.executors.official.probe import run_settings_probe
from grader.executors.official.sandbox import (
    FIRST_UID,
    Limits,
    SandboxSpec,
    bwrap_argv,
    job_slot,
    runtime_paths,
    write_etc,
)
from grader.pipeline import GradeOptions, grade_submission
from tests.official.conftest import Listener, host_ip
from tests.support import ROOT

FACTS = textwrap.dedent(
    """
    import json, os, resource, socket, sys, sysconfig

    def _status(field):
        for line in open("/proc/self/status"):
            if line.startswith(field + ":"):
                return line.split(":", 1)[1].strip()

    def _connects(host, port):
        try:
            socket.create_connection((host, port), timeout=1).close()
            return True
        except OSError:
            return False

    def _writable(path):
        try:
            with open(os.path.join(path, ".probe-write"), "w"):
                pass
            os.remove(os.path.join(path, ".probe-write"))
            return True
        except OSError:
            return False

    _ctx = json.loads(os.environ["PROBE_CONTEXT"])
    FACTS = {
        "uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "groups": os.getgroups(),
        "cap_eff": _status("CapEff"), "cap_bnd": _status("CapBnd"),
        "no_new_privs": _status("NoNewPrivs"), "pid": os.getpid(),
        "limits": {
            name: resource.getrlimit(getattr(resource, name))[0]
            for name in ("RLIMIT_CPU", "RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_FSIZE", "RLIMIT_NOFILE")
        },
        "env": sorted(os.environ),
        "loopback_listener": _connects("127.0.0.1", _ctx["port"]),
        "host_listener": _connects(_ctx["host_ip"], _ctx["port"]) if _ctx["host_ip"] else False,
        "outside": _connects("1.1.1.1", 53),
        "site_packages_writable": _writable(sysconfig.get_paths()["purelib"]),
        "source_writable": _writable("/grader/source"),
        "tmp_writable": _writable("/tmp"),
        "workspace_writable": _writable("/submission"),
        # The course's content, not its folder: when the virtualenv lives inside the clone (as
        # under nox on CI), the runtime bind creates the clone's path as an empty parent.
        "course_visible": [
            name for name in ("labs", "solutions", "grader", "tests")
            if os.path.exists(os.path.join(_ctx["root"], name))
        ],
        "shadow_visible": os.path.exists("/etc/shadow"),
        "host_tmp_entries": sorted(os.listdir("/tmp")),
        "processes": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        "libpython": sorted(
            {line.split()[-1] for line in open("/proc/self/maps") if "libpython" in line}
        ),
        "base_prefix": sys.base_prefix,
    }
    """
)


@pytest.fixture
def sandbox_facts(
    official_available: None, lab01_solution: Path, tmp_path: Path, listener: Listener
) -> dict[str, Any]:
    source = tmp_path / "source"
    source.mkdir()
    (source / "facts.py").write_text(FACTS)
    with job_slot(deadline=float("inf")) as uid:
        write_etc(tmp_path / "etc", uid)
        spec = SandboxSpec(
            uid=uid,
            source=str(source),
            python=sys.executable,
            runtime=runtime_paths(),
            etc_dir=str(tmp_path / "etc"),
            log_file=str(tmp_path / "sandbox.log"),
            limits=Limits(cpu_seconds=30),
        )
        context = {"port": listener.port, "host_ip": host_ip(), "root": str(ROOT)}
        report = run_settings_probe(
            spec,
            "facts",
            {"PROBE_CONTEXT": json.dumps(context)},
            ["FACTS"],
            timeout=30,
            scratch=tmp_path / "probes",
        )
    assert "values" in report, report
    facts: dict[str, Any] = report["values"]["FACTS"]
    facts["slot_uid"] = uid
    facts["accepted"] = list(listener.accepted)
    return facts


def test_the_sandbox_from_inside(sandbox_facts: dict[str, Any]) -> None:
    facts = sandbox_facts
    limits = Limits(cpu_seconds=30)
    # A uid of the job's own, no privileges.
    assert facts["uid"] == facts["euid"] == facts["gid"] == facts["slot_uid"] >= FIRST_UID
    assert facts["groups"] == []
    assert int(facts["cap_eff"], 16) == 0
    assert int(facts["cap_bnd"], 16) == 0
    assert facts["no_new_privs"] == "1"
    # Its own pid namespace: only a handful of processes, all of them its own.
    assert facts["pid"] < 10
    assert len(facts["processes"]) < 10
    assert facts["limits"] == {
        "RLIMIT_CPU": 30,
        "RLIMIT_AS": limits.address_space,
        "RLIMIT_NPROC": limits.processes,
        "RLIMIT_FSIZE": limits.file_size,
        "RLIMIT_NOFILE": limits.open_files,
    }
    # No network: neither the host's loopback nor its outside address nor the internet.
    assert not facts["loopback_listener"]
    assert not facts["host_listener"]
    assert not facts["outside"]
    assert facts["accepted"] == []
    # Read-only runtime and submission; private writable /tmp and workspace; nothing else.
    assert not facts["site_packages_writable"]
    assert not facts["source_writable"]
    assert facts["tmp_writable"]
    assert facts["workspace_writable"]
    assert facts["course_visible"] == []
    assert not facts["shadow_visible"]
    assert not any(name.startswith(("pytest-of", "grader-")) for name in facts["host_tmp_entries"])
    # A scrubbed environment: exactly what the probe was given (bwrap adds PWD).
    assert facts["env"] == sorted(
        ["HOME", "LANG", "PATH", "PROBE_CONTEXT", "PWD", "PYTHONDONTWRITEBYTECODE", "TMPDIR"]
    )
    # The RUNPATH gotcha: libpython comes from the runtime bound at its real path.
    assert facts["base_prefix"] == sys.base_prefix
    assert all(lib.startswith(os.path.realpath(sys.base_prefix)) for lib in facts["libpython"])


def test_the_command_line(official_available: None, tmp_path: Path) -> None:
    spec = SandboxSpec(
        uid=FIRST_UID + 3,
        source=str(tmp_path),
        python=sys.executable,
        runtime=runtime_paths(),
        etc_dir=str(tmp_path),
        log_file=str(tmp_path / "log"),
    )
    argv = bwrap_argv(spec, ["serve", "{}"], {"A": "1"}, info_fd=7)
    for flag in (
        "--die-with-parent",
        "--unshare-pid",
        "--unshare-net",
        "--new-session",
        "--clearenv",
        "--unshare-ipc",
    ):
        assert flag in argv
    assert argv[argv.index("--info-fd") + 1] == "7"
    setpriv = argv[argv.index("--") + 1 :]
    assert f"--reuid={FIRST_UID + 3}" in setpriv
    assert "--no-new-privs" in setpriv
    assert "--bounding-set=-all" in setpriv
    assert setpriv[-6:] == [sys.executable, "-I", "-B", "/grader/agent.py", "serve", "{}"]
    for path in spec.runtime:  # bound read-only at the same (real) path
        index = argv.index(path)
        assert argv[index - 1] == "--ro-bind"
        assert argv[index + 1] == path
    # Nothing of the course is bound: no bind source is the clone or holds its labs/solutions
    # (a runtime inside the clone, like nox's .nox/ virtualenvs, is bound on its own).
    sources = [argv[i + 1] for i, arg in enumerate(argv) if arg in ("--ro-bind", "--bind")]
    for secret in (ROOT / "labs", ROOT / "solutions", ROOT / "grader" / "official"):
        assert not any(secret == Path(src) or secret.is_relative_to(src) for src in sources)
    assert "/etc/shadow" not in argv


def test_concurrent_jobs_get_distinct_uids() -> None:
    with job_slot(deadline=float("inf")) as first, job_slot(deadline=float("inf")) as second:
        assert first != second
        assert {first, second} <= set(range(FIRST_UID, FIRST_UID + 32))


def test_official_mode_refuses_where_bubblewrap_is_missing(tmp_path: Path) -> None:
    """No bwrap on PATH (a laptop, macOS): one line, exit 2; local mode still grades."""
    out = tmp_path / "result.json"
    env = {**os.environ, "PATH": str(tmp_path)}
    command = [sys.executable, "-m", "grader", "grade", "lab01", "--output", str(out)]
    done = subprocess.run(
        [*command, "--official"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("grader: ")
    assert "without --official" in lines[0]
    assert "bubblewrap" in lines[0] or "root" in lines[0] or "Linux" in lines[0]
    assert not out.exists()
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode in (0, 1), done.stderr
    assert json.loads(out.read_text())["mode"] == "local"


def test_official_mode_refuses_a_postgres_server_url(
    official_available: None, lab01_solution: Path
) -> None:
    """The sandbox cannot reach a server; it starts one of its own for --database postgres
    (tests/official/test_official_postgres.py)."""
    with pytest.raises(UsageError, match=r"starts one of its own inside the sandbox"):
        grade_submission(
            ROOT / "labs" / "lab01",
            lab01_solution,
            GradeOptions(mode="official", database="postgres://u@127.0.0.1:5432/x"),
        )


@pytest.mark.slow
def test_cli_grades_the_solution_officially(
    official_available: None, lab01_solution: Path, tmp_path: Path
) -> None:
    out = tmp_path / "result.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            "grade",
            "lab01",
            "--official",
            "--submission",
            str(lab01_solution),
            "--output",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "100/100" in done.stdout
    result = json.loads(out.read_text())
    assert result["mode"] == "official"
    assert result["integrity"]["flags"] == []
    assert result["integrity"]["reported_checks"] == result["integrity"]["expected_checks"]


def test_repeat_must_be_positive() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "grader", "grade", "lab01", "--official", "--repeat", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "must be 1 or more" in done.stderr
