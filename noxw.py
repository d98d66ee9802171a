#!/usr/bin/env python3
"""nox wrapper: run the course's nox sessions on a machine that has only Python 3.11+.

    python3 noxw.py -s grade lab01      # same as `nox -s grade lab01`
    python3 noxw.py -s tests

If this Python can already import nox, that nox runs. Otherwise nox (with uv, its fast installer)
is installed once into ``.tools/nox`` inside the course folder (git-ignored, nothing system-wide,
no administrator rights needed) and reused afterwards. Every argument is passed to nox unchanged.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

NOX_REQUIREMENT = "nox[uv]>=2024.10,<2027"
HERE = Path(__file__).resolve().parent
TOOLS = HERE / ".tools" / "nox"


def _fail(message: str) -> None:
    print(f"noxw: {message}", file=sys.stderr)
    raise SystemExit(2)


def _tools_python() -> Path:
    return TOOLS / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _has_nox(python: Path | str) -> bool:
    probe = [str(python), "-c", "import nox"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


def _install_nox() -> Path:
    python = _tools_python()
    if python.exists() and _has_nox(python):
        return python
    print(f"noxw: installing {NOX_REQUIREMENT} into {TOOLS.relative_to(HERE)} (once)...",
          file=sys.stderr)
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(TOOLS)
    except (OSError, subprocess.CalledProcessError) as exc:
        _fail(f"could not create a virtual environment ({exc}). On Debian/Ubuntu install "
              "python3-venv (`sudo apt install python3-venv`), then run this again.")
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if subprocess.run([*pip, NOX_REQUIREMENT], check=False).returncode != 0:
        _fail("installing nox failed (see pip's message above). Check your connection to PyPI, "
              "then run this again.")
    return python


def main() -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - this file must run on old Pythons to say so
        _fail(f"the course needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    python: Path | str = sys.executable if _has_nox(sys.executable) else _install_nox()
    os.chdir(HERE)  # nox finds noxfile.py here, wherever the command was typed
    return subprocess.call([str(python), "-m", "nox", *sys.argv[1:]])


if __name__ == "__main__":
    raise SystemExit(main())
