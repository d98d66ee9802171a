#!/usr/bin/env python3
"""nox wrapper: run the course's nox sessions on a machine that has only Python 3.11+.

    python3 noxw.py -s grade lab01      # same as `nox -s grade lab01`
    python3 noxw.py -s tests

If this Python can already import nox, that nox runs. Otherwise nox (with uv, its fast installer)
is installed once into ``.tools/nox`` inside the course folder (git-ignored, nothing system-wide,
no administrator rights needed) and reused afterwards. The arguments are passed to nox, with the
grade session's words put where nox expects them (``grade_words_for_nox``), so that
``python3 noxw.py -s grade lab07 --submission X`` works although nox itself would refuse it:
nox reads its command line before it loads ``noxfile.py``, so only a wrapper can fix that one.
Run from anywhere: ``python3 ../../../noxw.py -s grade lab07`` from ``labs/lab07/starter/`` works
(relative paths given to ``-f``, ``--submission`` and ``--output`` are made absolute first).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import venv
from pathlib import Path

NOX_REQUIREMENT = "nox[uv]>=2024.10,<2027"
HERE = Path(__file__).resolve().parent
TOOLS = HERE / ".tools" / "nox"


# nox's options that name sessions; each takes every following word that is not an option.
SESSION_OPTIONS = ("-s", "-e", "--session", "--sessions")
# `grader grade`'s options (True: takes a value). After `-s grade` they belong to the session.
GRADE_OPTIONS = {
    "--submission": True, "--output": True, "--database": True, "--timeout": True,
    "--repeat": True, "--json": False, "--official": False, "--serial": False,
}  # fmt: skip
PATH_OPTIONS = ("--submission", "--output")
NOXFILE_OPTIONS = ("-f", "--noxfile")
LIST_OPTIONS = ("-l", "--list", "--list-sessions")  # with these, --json is nox's own
# A word naming a lab: lab07, LAB7, capstone, 7, labs/lab07, ./labs/lab07/starter/.
LAB_WORD = re.compile(
    r"^(?:lab\d\d?|capstone|\d\d?|(?:\./)?labs/(?:lab\d\d?|capstone)(?:/starter)?/?)$", re.I
)


def lab_name(word: str) -> str | None:
    """The lab ``word`` names, spelt as the grader spells it (``lab07``), or None."""
    if not LAB_WORD.match(word):
        return None
    parts = [part for part in word.lower().split("/") if part not in ("", ".", "labs", "starter")]
    name = parts[0] if parts else ""
    digits = name.removeprefix("lab")
    return f"lab{int(digits):02d}" if digits.isdigit() else name


def _absolute(value: str, cwd: str | None) -> str:
    if cwd is None or os.path.isabs(value) or "://" in value:
        return value
    return os.path.normpath(os.path.join(cwd, value))


def grade_words_for_nox(argv: list[str], cwd: str | None = None) -> list[str]:
    """``argv`` (nox's arguments) with the grade session's own words moved behind ``--``.

    ``-s grade lab07 --submission X`` becomes ``-s grade -- lab07 --submission X``; so do
    ``-s=grade lab07`` and ``-s grade labs/lab07``. Only when the grade session is named; other
    options and their order are kept; a second pass changes nothing. With ``cwd``, the relative
    paths given to ``-f``/``--noxfile``, ``--submission`` and ``--output`` become absolute (for a
    caller about to change directory).
    """
    cut = argv.index("--") if "--" in argv else len(argv)
    head, tail = argv[:cut], argv[cut + 1 :]
    nox_words: list[str] = []
    moved: list[str] = []
    sessions: list[str] = []
    listing = "-l" in head or any(word in LIST_OPTIONS for word in head)
    reading_sessions = False
    index = 0
    while index < len(head):
        word = head[index]
        name, equals, value = word.partition("=")
        index += 1
        if name in SESSION_OPTIONS:
            nox_words.append(name)
            reading_sessions = True
            if equals:  # "-s=grade": nox ends the list there; the user meant it to go on
                sessions.append(value)
                nox_words.append(value)
            continue
        if reading_sessions and not word.startswith("-"):
            if "grade" in sessions and lab_name(word):
                moved.append(word)
            else:
                sessions.append(word)
                nox_words.append(word)
            continue
        reading_sessions = False
        if name in GRADE_OPTIONS and "grade" in sessions and not (name == "--json" and listing):
            takes_value = GRADE_OPTIONS[name] and not equals and index < len(head)
            option_value = head[index] if takes_value else value
            index += takes_value
            if name in PATH_OPTIONS:
                option_value = _absolute(option_value, cwd)
            moved += [f"{name}={option_value}"] if equals else [name]
            moved += [option_value] if takes_value else []
            continue
        if name in NOXFILE_OPTIONS:
            nox_words.append(name if not equals else f"{name}={_absolute(value, cwd)}")
            if not equals and index < len(head):
                nox_words.append(_absolute(head[index], cwd))
                index += 1
            continue
        nox_words.append(word)
    if "grade" not in sessions or (not moved and cwd is None):
        return list(argv)
    rest = []
    index = 0
    while index < len(tail):
        word = tail[index]
        name, equals, value = word.partition("=")
        index += 1
        if name in PATH_OPTIONS and equals:
            word = f"{name}={_absolute(value, cwd)}"
        elif name in PATH_OPTIONS and index < len(tail):
            rest += [word, _absolute(tail[index], cwd)]
            index += 1
            continue
        rest.append(word)
    if not moved and "--" not in argv:
        return nox_words
    return [*nox_words, "--", *moved, *rest]


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
    print(
        f"noxw: installing {NOX_REQUIREMENT} into {TOOLS.relative_to(HERE)} (once)...",
        file=sys.stderr,
    )
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(TOOLS)
    except (OSError, subprocess.CalledProcessError) as exc:
        _fail(
            f"could not create a virtual environment ({exc}). On Debian/Ubuntu install "
            "python3-venv (`sudo apt install python3-venv`), then run this again."
        )
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if subprocess.run([*pip, NOX_REQUIREMENT], check=False).returncode != 0:
        _fail(
            "installing nox failed (see pip's message above). Check your connection to PyPI, "
            "then run this again."
        )
    return python


def main() -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - this file must run on old Pythons to say so
        _fail(f"the course needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    python: Path | str = sys.executable if _has_nox(sys.executable) else _install_nox()
    args = grade_words_for_nox(sys.argv[1:], cwd=os.getcwd())
    os.chdir(HERE)  # nox finds noxfile.py here, wherever the command was typed
    return subprocess.call([str(python), "-m", "nox", *args])


if __name__ == "__main__":
    raise SystemExit(main())
