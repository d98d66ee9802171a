"""Settings probes for official mode: one fresh sandbox per probe, judged by the trusted side.

Local mode's ``project.settings_module(...)`` imports a settings module in a new interpreter with
an environment the check chooses (random secrets, hosts and database URLs). Official mode does
the same in a new sandbox, started by the trusted checks process for each probe, under the job's
uid and limits. No learner code has run in that sandbox before the probe, so code elsewhere in
the project (a settings module the server imported, say) cannot answer for the module probed.
The sandbox's output is hostile input: only the last line carrying the probe's mark counts, it
must be a JSON object, the output file is capped by ``RLIMIT_FSIZE``, and only its tail is read.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from grader.executors.official.sandbox import SandboxSpec, bwrap_argv, limit_sandbox

PROBE_MARK = "@@GRADER-SETTINGS-PROBE@@"
TAIL_BYTES = 64 * 1024
_counter = itertools.count()


def probe_environment(env: Mapping[str, str]) -> dict[str, str]:
    """What local mode's probe gets: PATH, HOME, LANG, TMPDIR, no bytecode, plus ``env``."""
    base = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "TMPDIR": "/tmp",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return {**base, **{str(k): str(v) for k, v in env.items()}}


def run_settings_probe(
    spec: SandboxSpec,
    module: str,
    env: Mapping[str, str],
    names: list[str],
    *,
    timeout: float,
    scratch: Path,
) -> dict[str, Any]:
    """``{"values": {...}}`` or ``{"error": {"type", "message"}}``, as local mode's probe.

    Returns ``{}`` when the sandbox printed no well-formed answer at all; the caller decides
    what that means (the process ended early: the import failed).
    """
    scratch.mkdir(parents=True, exist_ok=True)
    out = scratch / f"probe-{os.getpid()}-{next(_counter)}.out"
    argv = bwrap_argv(
        spec,
        ["settings-probe", PROBE_MARK, module, json.dumps(list(names))],
        probe_environment(env),
    )
    with out.open("wb") as stdout, open(spec.log_file, "ab") as log:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=log,
            start_new_session=True,
            preexec_fn=functools.partial(limit_sandbox, spec.limits),
        )
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()  # bwrap: its pid namespace, and the probe with it, goes too
            proc.wait()
            out.unlink()
            return {
                "error": {
                    "type": "Timeout",
                    "message": f"importing {module} took over {timeout:.0f}s",
                }
            }
    with out.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        fh.seek(max(0, fh.tell() - TAIL_BYTES))
        text = fh.read().decode("utf-8", "replace")
    out.unlink()
    for line in reversed(text.splitlines()):
        if line.startswith(PROBE_MARK):
            try:
                parsed = json.loads(line[len(PROBE_MARK) :])
            except ValueError:
                return {}
            return parsed if isinstance(parsed, dict) else {}
    return {"ended": proc.returncode}
