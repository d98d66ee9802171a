"""Course sessions. Run ``nox -l`` to list them.

    nox -s grade lab01        grade your lab01 workspace (same as: nox -s grade -- lab01)
    nox -s tests              the course's own test suite (what CI runs)
    nox -s lint               ruff on everything, mypy on grader/
    nox -s docs               build the site strictly (nox -s docs -- serve: live preview)
    nox -s labs               regenerate lab starters and generated tables (-- --check: verify)
    nox -s release -- DEST    build the learners' edition into DEST (default dist/learners)
    nox -s cohort -- ARGS     instructors: python -m grader cohort ARGS (grade, override, publish)

Environments are reused between runs and re-synced only when pyproject.toml changes, so a
repeat ``nox -s grade lab01`` costs about as much as running the checks themselves.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import nox

nox.options.default_venv_backend = "uv|virtualenv"  # uv when present, virtualenv otherwise
nox.options.reuse_venv = "yes"
nox.options.error_on_external_run = True  # never fall back to a tool outside the session's env
nox.options.sessions = ["tests"]

ROOT = Path(__file__).parent
LAB_ID = r"lab\d\d?|capstone"  # in the cohort session's words (a bare number there is a value)


def _noxw() -> Any:
    """``noxw.py`` beside this file, imported by path: it holds the grade session's word rules,
    shared with the wrapper (nox may run from anywhere, so this folder need not be on sys.path)."""
    spec = importlib.util.spec_from_file_location("noxw", ROOT / "noxw.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


NOXW = _noxw()


HERE_FILE = Path(__file__).resolve()


def _started_in(argv: list[str]) -> Path | None:
    """The folder nox was started in (it has moved into this one by now), or None if unknown.

    Without ``-f`` it is this folder. With ``-f PATH`` it is the shell's ``PWD`` when PATH, read
    from there, is this file (a PWD inherited from elsewhere fails that test).
    """
    cut = argv.index("--") if "--" in argv else len(argv)
    value = None
    for index, word in enumerate(argv[:cut]):
        name, equals, rest = word.partition("=")
        if name in NOXW.NOXFILE_OPTIONS:
            value = rest if equals else (argv[index + 1] if index + 1 < cut else None)
    if value is None:
        return ROOT
    pwd = os.environ.get("PWD", "")
    if pwd and Path(pwd, value).resolve() == HERE_FILE:
        return Path(pwd)
    return None


def _lab_words_become_posargs() -> None:
    """Make ``nox -s grade lab07`` mean ``nox -s grade -- lab07``.

    nox's ``-s`` takes every following word as a session name and offers no alias hook, so when
    lab names follow ``-s grade`` (``lab07``, ``7``, ``labs/lab07``) we run nox again with them
    moved behind ``--`` (``noxw.grade_words_for_nox``). Only public behaviour is used: the other
    options and their order are passed through unchanged. nox has already moved into this
    folder, so the new nox is started where this one was (``_started_in``): a relative ``-f``
    and ``--submission .`` keep their meaning.

    ``nox -s grade lab07 --submission X`` and ``nox -s=grade lab07`` never get here: nox refuses
    them while reading its command line, before it loads this file. ``python3 noxw.py`` accepts
    them (it rewrites the words before nox sees them); the README says so.
    """
    argv = sys.argv[1:]
    command = NOXW.grade_words_for_nox(argv)
    if command == argv:
        return
    started_in = _started_in(argv)
    if started_in is not None:
        os.chdir(started_in)  # the new nox starts where this one did: same -f, same invoked_from
    else:  # -f named this file from a folder we cannot tell: name it by its absolute path
        for index, word in enumerate(command[: command.index("--")]):
            name, equals, _ = word.partition("=")
            if name in NOXW.NOXFILE_OPTIONS and equals:
                command[index] = f"{name}={HERE_FILE}"
            elif name in NOXW.NOXFILE_OPTIONS and index + 1 < len(command):
                command[index + 1] = str(HERE_FILE)
    command = [sys.executable, "-m", "nox", *command]
    if os.name == "posix":
        os.execv(sys.executable, command)  # replaces this process: one clean nox run
    raise SystemExit(subprocess.call(command))  # execv misbehaves in Windows consoles


_lab_words_become_posargs()


def _install(session: nox.Session, extras: str) -> None:
    """Install the course package with ``extras`` unless this env already has this exact set."""
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    location = getattr(session.virtualenv, "location", None)
    stamp = Path(location) / ".course-installed" if location else None
    if stamp and stamp.is_file() and stamp.read_text() == digest:
        return
    session.install("-e", f".[{extras}]")
    if stamp:
        stamp.write_text(digest)


def _known_labs() -> list[str]:
    return sorted(p.parent.name for p in ROOT.glob("labs/*/rubric.toml"))


def _notebook_labs(labs: list[str]) -> bool:
    """Whether any of ``labs`` is graded by nbgrader (its rubric names a notebook)."""
    import tomllib

    for lab in labs:
        rubric = ROOT / "labs" / lab.lower() / "rubric.toml"
        if rubric.is_file() and "notebook" in tomllib.loads(rubric.read_text(encoding="utf-8")):
            return True
    return False


def _grade_args(session: nox.Session) -> tuple[list[str], list[str]]:
    """The labs named in the session's words, spelt as the grader spells them, and the words
    for ``grader grade``: each lab normalised (``7``, ``labs/lab07`` → ``lab07``), the paths
    of ``--submission`` and ``--output`` made absolute from where nox was started (a path
    typed in ``labs/lab07/starter/`` means a folder there, not here)."""
    labs: list[str] = []
    words: list[str] = []
    args = list(session.posargs)
    index = 0
    while index < len(args):
        word = args[index]
        name, equals, value = word.partition("=")
        index += 1
        if NOXW.GRADE_OPTIONS.get(name):  # an option with a value
            if not equals and index < len(args):
                value = args[index]
                index += 1
            if name in NOXW.PATH_OPTIONS:
                value = str(Path(session.invoked_from, value))
            words.append(f"{name}={value}")
        elif word.startswith("-"):
            words.append(word)
        else:
            lab = NOXW.lab_name(word) or word
            labs.append(lab)
            words.append(lab)
    return labs, words


@nox.session
def grade(session: nox.Session) -> None:
    """Grade labs: nox -s grade lab01 [-- --submission PATH] [--database URL] [--json]."""
    # Checked here, before any install, so a typo costs one line and no waiting. (nox ends the
    # message with its own full stop.)
    (labs, words), known = _grade_args(session), _known_labs()
    if not labs:
        session.error(f"Name the lab to grade, e.g. `nox -s grade lab01`. Labs: {', '.join(known)}")
    unknown = [lab for lab in labs if lab not in known]
    if unknown:
        session.error(f"Unknown lab {unknown[0]!r}. Labs you can grade: {', '.join(known)}")
    # Notebook labs (lab03) are graded by nbgrader: install it only when one of them is graded.
    _install(session, "lab,notebook" if _notebook_labs(labs) else "lab")
    # Exit 1 means "graded, some criteria failed": the table already says so, so the session
    # itself succeeded. Errors (2-5) still fail the session.
    session.run("python", "-m", "grader", "grade", *words, success_codes=[0, 1])


# What `nox -s tests` runs and what it usually costs, said before it starts (BENCHMARKS.md has the
# measured figures; update both together).
TESTS_BANNER = """\
The course's own tests: the starters' drift check, then pytest over tests/ on {workers} worker(s)
(generator, grader, rubric proofs of every lab on SQLite and PostgreSQL, official-mode sandbox
and attacks, instructors' tools, the site build and a real browser), then the reference
project's own tests. On a 2-core machine this takes 80 to 85 minutes (BENCHMARKS.md).
Faster: `nox -s tests -- quick` skips everything marked slow (whole gradings, proofs, the
sandbox): a few minutes. Any other words after `--` go to pytest (`-- -k lab04`, `-- -x`)."""


# A learners' edition (grader.course.release) has no solutions/ and none of the course's tests:
# there `tests` checks the edition itself and `labs` has nothing to regenerate.
EDITION = (ROOT / "EDITION.json").is_file()


@nox.session
def tests(session: nox.Session) -> None:
    """The course's own tests (`-- quick`: all but the slow ones, a few minutes)."""
    if EDITION:
        _install(session, "lab")
        session.run("python", "-m", "grader.course.release.check")
        return
    _install(session, "lab,docs,dev,authoring,instructor,browser,notebook")
    args = list(session.posargs)
    quick = "quick" in args
    if quick:
        args.remove("quick")
        args += ["-m", "not slow"]
    workers = os.environ.get("GRADER_TEST_WORKERS", "auto")
    session.log(TESTS_BANNER.format(workers=os.cpu_count() if workers == "auto" else workers))
    session.run("python", "-m", "grader.course.labgen", "starters", "--check")
    # -n: one worker per core; loadgroup keeps each module (and each lab's proof) on one worker;
    # --no-loadscope-reorder: groups are handed out longest first, in the order tests/conftest.py
    # sorts them (xdist's own order, by number of tests, sent the proofs last).
    # --durations: the slowest tests, so a CI log shows where the time went.
    session.run(
        "python", "-m", "pytest", "tests", "-n", workers, "--dist", "loadgroup",
        "--no-loadscope-reorder", "--durations=20", *args,
    )  # fmt: skip
    if not quick:
        session.chdir("solutions")
        session.run("python", "-m", "pytest", "-q")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over the repository; mypy (strict) over grader/."""
    # mypy needs SQLAlchemy/Alembic's types (instructor) and copier's (authoring: the capstone).
    _install(session, "lab,dev,instructor,authoring")
    session.run("ruff", "check", ".")
    session.run("mypy")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the site with --strict; `nox -s docs -- serve` for a live preview."""
    _install(session, "docs")
    env = {"NO_MKDOCS_2_WARNING": "1"}
    if session.posargs[:1] == ["serve"]:
        session.run("mkdocs", "serve", *session.posargs[1:], env=env)
    else:
        session.run("mkdocs", "build", "--strict", *session.posargs, env=env)


@nox.session
def labs(session: nox.Session) -> None:
    """Regenerate lab starters, notebooks and rubric tables; `-- --check` only verifies them."""
    if EDITION:
        session.skip("The learners' edition has no solutions/: its starters are final.")
    _install(session, "lab,notebook")
    check_flag = ["--check"] if "--check" in session.posargs else []
    session.run("python", "-m", "grader.course.labgen", "starters", *check_flag)
    # After the generator (which carries the released notebook over, labs.toml `keep`): a fresh
    # nbgrader release of every notebook lab's source notebook into its starter (docs/authors).
    session.run("python", "-m", "grader.course.notebooks", "release", *check_flag)
    session.run("python", "-m", "grader.course.docs_sync", *check_flag)


@nox.session
def release(session: nox.Session) -> None:
    """Build the learners' edition: nox -s release [-- DEST] (default dist/learners)."""
    _install(session, "lab")
    dest = session.posargs or ["dist/learners"]
    session.run("python", "-m", "grader", "release", *dest)


@nox.session
def cohort(session: nox.Session) -> None:
    """Instructors: nox -s cohort -- grade --lab lab01 --submissions DIR --roster roster.csv."""
    if not session.posargs:
        session.error("Say what to do, e.g. `nox -s cohort -- grade --lab lab01 ...` (see --help)")
    notebook = _notebook_labs([a for a in session.posargs if re.fullmatch(LAB_ID, a, re.I)])
    _install(session, "lab,instructor,notebook" if notebook else "lab,instructor")
    session.run("python", "-m", "grader", "cohort", *session.posargs)
