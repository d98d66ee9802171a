"""Files a command writes into a generated tree (labs.toml's ``[generated]`` table).

lab08's committed contract, ``openapi.yaml``, is the schema drf-spectacular generates from the
project, and it differs from lab to lab (lab09 adds endpoints, lab10 others): one hand-kept
copy cannot be right for every lab. So the generator writes each tree's own, by running the
entry's command (``manage.py spectacular``) in that tree and keeping what it prints:

- :func:`add_generated` adds the file to a lab's starter or solution tree where its directive
  says it exists (``"lab08 solution"``: from lab08's solution and lab09's starter on);
- :func:`source_copy` is what the source folder's own copy (the newest lab's, which the
  reference project's own tests read) should hold, for ``starters --check`` and rewrites.

A command that fails raises :class:`GeneratedError` (a ValueError) with its last lines of
output, so a schema that no longer generates cleanly stops ``nox -s labs`` with a sentence.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from grader.course.labgen.config import GeneratedFile, LabConfig
from grader.course.labgen.markers import Kind, is_present

TIMEOUT = 120.0
MODE = 0o644


class GeneratedError(ValueError):
    """A ``[generated]`` command failed; the message says where and why."""


def run_command(entry: GeneratedFile, folder: Path, shown: str) -> bytes:
    """``entry``'s command run in ``folder``: its standard output; GeneratedError otherwise."""
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
    env.update(PYTHONDONTWRITEBYTECODE="1", **entry.env)
    try:
        done = subprocess.run(
            [sys.executable, *entry.command],
            cwd=folder,
            env=env,
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise GeneratedError(
            f"{shown}: `{' '.join(entry.command)}` took over {TIMEOUT:.0f}s"
        ) from None
    if done.returncode != 0 or not done.stdout:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise GeneratedError(
            f"{shown}: `{' '.join(entry.command)}` failed (exit {done.returncode}): "
            + " / ".join(tail or ["no output"])
        )
    return done.stdout


def present(config: LabConfig, lab: str, kind: Kind) -> list[GeneratedFile]:
    """The ``[generated]`` entries that exist in ``lab``'s ``kind`` tree."""
    return [
        entry
        for entry in config.generated
        if is_present(entry.directive, entry.path, lab, kind, config.labs)
    ]


def add_generated(
    tree: dict[str, bytes], config: LabConfig, lab: str, kind: Kind
) -> dict[str, bytes]:
    """The generated files of ``lab``'s ``kind`` tree (path → bytes), made from ``tree``."""
    entries = present(config, lab, kind)
    if not entries:
        return {}
    with tempfile.TemporaryDirectory(prefix=f"labgen-{lab}-") as folder:
        root = Path(folder)
        for relative, data in tree.items():
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return {
            entry.path: run_command(entry, root, f"{lab} {kind}: {entry.path}") for entry in entries
        }


def source_copy(config: LabConfig, source: Path) -> dict[str, bytes]:
    """What the source folder's own generated files should hold (run in the folder itself)."""
    return {
        entry.path: run_command(entry, source, f"{source.as_posix()}/{entry.path}")
        for entry in config.generated
    }
