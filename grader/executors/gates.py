"""Run a rubric's quality gates against a staged submission; one outcome per gate criterion.

Called by :mod:`grader.pipeline` after the hidden checks, on the same staged copy, only when
those checks produced a report (a submission that cannot even start is an ``error`` already):

``ruff``
    ``python -m ruff check`` over the staged copy with the course's settings file only
    (``--config`` makes ruff ignore every ``ruff.toml``/``pyproject.toml`` in the project), in
    an environment built from nothing, without a cache. ruff reads files and runs none of them,
    so it needs no sandbox, in local or official mode alike. ``--ignore-noqa``: a ``# noqa``
    comment, or a file-level ``# ruff: noqa``, silences nothing, since the gate asks whether
    the code is clean, not whether its findings were hidden (the course's settings file is the
    one place a rule is switched off). The settings file is tried on an empty project before
    grading (:func:`check_ruff_config`), so a ruff that fails on the submission failed because
    of something in it (ruff overflows its stack on very deeply nested expressions, which a
    ``.pyi`` stub can hold since Python never compiles one): the criterion is then an
    ``error`` naming the files ruff stopped on, flagged for manual review, never a grader
    crash.
``learner-tests``
    The learner's ``test_*.py`` files run in the same hardened child process as the hidden
    checks (:func:`grader.executors.local.run_checks`): ``python -I``, a scrubbed environment,
    pytest configured only by the grader (the project's ``pytest.ini`` and ``.coveragerc`` are never
    read; its ``conftest.py`` files are, since the learner's tests need their fixtures), a test
    database built from the project's migrations, and coverage.py measuring the gate's packages
    from before Django starts. Official mode runs the same job inside a sandbox of its own
    and judges what comes back here, with the same rules (:mod:`grader.executors.official.gates`).

A :class:`GateMemo` lets several gradings of one submission share a gate's run: a proof grades
the same solution against the rubric of every earlier lab, and their gates run the same command
on the same files. What a run depends on is its key (the staged digest, the gate's options but
its threshold, the settings module, the database, the mode and the time limit), so a hit returns
exactly what running again would, judged against the asking rubric's own threshold.

Each outcome is a :class:`~grader.report.TestOutcome` reported under the
criterion's one check id, so :func:`grader.scoring.score_report` scores gates like any check, and
its message says what was found and the command that shows the rest.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from grader.errors import RubricError, UsageError
from grader.executors.base import CheckRun
from grader.executors.local import CheckSet, run_checks
from grader.gatespec import LearnerTestsGate, RuffGate
from grader.report import Report, TestOutcome
from grader.rubric import Criterion, Rubric
from grader.staging import StagedSubmission

RUFF_TIMEOUT = 60.0
RUFF_PROBED_FILES = 200  # files tried one by one to name the ones ruff stops on
SHOWN = 3  # findings, failing tests or files named in one message
COVERAGE_OMIT = ("*/migrations/*",)  # written by makemigrations, not by the learner
MANUAL_REVIEW = (
    "This grading mode does not run your own tests: an instructor decides this criterion. "
    "Grade locally to see what the grader finds."
)


class GateMemo:
    """Gate runs made in this process, reused by later gradings of the same staged files.

    Only callers that grade one submission several times (``grader.course.proving``) pass one;
    a learner's grading never does. Keys: see the module doc. Thread-safe: the gates of one
    grading run beside each other.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._learner: dict[tuple[Any, ...], tuple[CheckRun, list[FileCoverage] | None]] = {}
        self._ruff: dict[tuple[Any, ...], TestOutcome] = {}
        self.hits = 0

    def learner_run(
        self, key: tuple[Any, ...], run: Callable[[], tuple[CheckRun, list[FileCoverage] | None]]
    ) -> tuple[CheckRun, list[FileCoverage] | None]:
        """The learner-tests run under ``key``: made by ``run`` the first time, then reused."""
        with self._lock:
            known = self._learner.get(key)
            if known is not None:
                self.hits += 1
                return known
        made = run()
        with self._lock:
            self._learner[key] = made
        return made

    def ruff_outcome(self, key: tuple[Any, ...], run: Callable[[], TestOutcome]) -> TestOutcome:
        """The ruff outcome under ``key``: made by ``run`` the first time, then reused."""
        with self._lock:
            known = self._ruff.get(key)
            if known is not None:
                self.hits += 1
                return known
        made = run()
        with self._lock:
            self._ruff[key] = made
        return made


@dataclass(frozen=True)
class GateRun:
    """Each gate criterion's outcome, by its check id; flags for the result's integrity."""

    outcomes: dict[str, TestOutcome]
    flags: tuple[str, ...] = ()
    seconds: float = 0.0

    def merged(self, report: Report) -> Report:
        """``report`` with the gates' outcomes added, for scoring."""
        return replace(report, tests={**report.tests, **self.outcomes})


def gate_failure(rubric: Rubric, message: str) -> GateRun:
    """Every gate criterion ``error`` with ``message``, flagged for review: what a gate run that
    failed unexpectedly scores (0 points, and an instructor is asked to look)."""
    criteria = gate_criteria(rubric)
    outcomes = {c.checks[0]: TestOutcome(c.checks[0], "error", 0.0, message) for c in criteria}
    flags = tuple(f"{c.id}: the gate could not run; needs manual review" for c in criteria)
    return GateRun(outcomes, flags)


def gate_criteria(rubric: Rubric) -> list[Criterion]:
    return [criterion for criterion in rubric.criteria if criterion.gate is not None]


def ruff_config(rubric: Rubric, gate: RuffGate) -> Path:
    """The course's ruff settings file a gate names; RubricError when it is missing."""
    path = (rubric.path.parent / gate.config).resolve()
    if not path.is_file():
        raise RubricError(f"{rubric.path}: the ruff settings file {path} does not exist")
    return path


def check_gate_tools(rubric: Rubric) -> None:
    """Refuse to grade, before anything is staged, when a gate's tool is not installed here.

    A missing tool is this machine's problem, never the learner's: it must not cost points.
    """
    for criterion in gate_criteria(rubric):
        if isinstance(criterion.gate, RuffGate):
            config = ruff_config(rubric, criterion.gate)
            module, what = "ruff", "ruff"
        else:
            module, what = "coverage", "coverage.py"
        if importlib.util.find_spec(module) is None:
            raise UsageError(
                f"{rubric.lab}'s criterion {criterion.id!r} needs {what}, which is not installed "
                "here. Grade with `nox -s grade " + rubric.lab + "` (it installs what grading "
                "needs), or run `pip install -e '.[lab]'` in the course repository."
            )
        if isinstance(criterion.gate, RuffGate):
            check_ruff_config(config)


def _ruff_command(config: Path, *paths: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "ruff",
        "check",
        "--config",
        str(config),
        "--no-cache",
        "--ignore-noqa",
        "--exit-zero",
        "--output-format",
        "json",
        *paths,
    ]


def check_ruff_config(config: Path) -> None:
    """RubricError when ruff fails with ``config`` on an empty project: the course's fault.

    Run once per settings file version (cached by path and modification time), so that a ruff
    failure while grading can be put down to the submission.
    """
    stat = config.stat()
    _check_ruff_config(config, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=16)
def _check_ruff_config(config: Path, mtime_ns: int, size: int) -> None:
    with tempfile.TemporaryDirectory(prefix="grader-ruff-probe-") as tmp:
        (Path(tmp) / "empty.py").write_text('"""Nothing to find."""\n')
        done = subprocess.run(
            _ruff_command(config, "."),
            cwd=tmp,
            env=_scrubbed_environment(Path(tmp)),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=RUFF_TIMEOUT,
            check=False,
        )
    if done.returncode != 0:
        error = done.stderr.decode("utf-8", "replace").strip()[-500:]
        raise RubricError(f"ruff cannot check any project with {config}: {error}")


def run_quality_gates(
    *,
    rubric: Rubric,
    staged: StagedSubmission,
    work: Path,
    database: str = "sqlite",
    timeout: float | None = None,
    mode: str = "local",
    concurrent: bool = False,
    memo: GateMemo | None = None,
) -> GateRun:
    """Run every gate criterion of ``rubric`` against ``staged`` (scratch space in ``work``).

    With ``concurrent``, the gates run at the same time as one another (each in its own
    ``work/gate-<id>`` folder and child process); their outcomes do not depend on it. With
    ``memo``, a gate already run on the same files under the same conditions is not run again.
    """
    started = time.monotonic()
    limit = timeout if timeout is not None else float(rubric.timeout_seconds)

    def one(criterion: Criterion) -> tuple[TestOutcome, str | None]:
        check, gate, scratch = criterion.checks[0], criterion.gate, work / f"gate-{criterion.id}"
        if isinstance(gate, RuffGate):
            config = ruff_config(rubric, gate)

            def ruff() -> TestOutcome:
                return run_ruff(check, config, staged, scratch)

            if memo is None:
                outcome = ruff()
            else:
                key = (staged.digest, str(config), config.read_bytes())
                outcome = replace(memo.ruff_outcome(key, ruff), nodeid=check)
            if outcome.outcome == "error":  # ruff failed or timed out on this submission
                return outcome, f"{criterion.id}: ruff could not check the submission; needs review"
            return outcome, None
        if mode not in ("local", "official"):
            flag = f"{criterion.id}: needs manual review (learner tests, {mode} mode)"
            return TestOutcome(check, "error", 0.0, MANUAL_REVIEW), flag
        assert isinstance(gate, LearnerTestsGate)
        outcome = run_learner_tests(
            check, gate, rubric, staged, scratch, database, limit, mode, memo
        )
        if outcome.outcome == "error":  # the grader's failure (judge_learner_tests)
            return outcome, f"{criterion.id}: the grader could not run the tests; needs review"
        return outcome, None

    criteria = gate_criteria(rubric)
    if concurrent and len(criteria) > 1:
        with ThreadPoolExecutor(len(criteria), thread_name_prefix="grader-gate") as pool:
            done = list(pool.map(one, criteria))
    else:
        done = [one(criterion) for criterion in criteria]
    outcomes = {c.checks[0]: outcome for c, (outcome, _) in zip(criteria, done, strict=True)}
    flags = tuple(flag for _, flag in done if flag)
    return GateRun(outcomes, flags, time.monotonic() - started)


# ruff ------------------------------------------------------------------------------------------


def _scrubbed_environment(work: Path) -> dict[str, str]:
    for name in ("home", "tmp"):
        (work / name).mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(work / "home"),
        "TMPDIR": str(work / "tmp"),
        "LANG": "C.UTF-8",
    }


def _ruff(config: Path, project: Path, work: Path, *paths: str) -> list[Any] | None:
    """ruff's findings for ``paths`` in ``project``; None when ruff failed (crashed, or printed
    something that is not its JSON list). TimeoutExpired propagates."""
    done = subprocess.run(
        _ruff_command(config, *paths),
        cwd=project,
        env=_scrubbed_environment(work),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=RUFF_TIMEOUT,
        check=False,
    )
    try:
        findings = json.loads(done.stdout)
    except ValueError:
        return None
    return findings if done.returncode == 0 and isinstance(findings, list) else None


def _files_ruff_stops_on(config: Path, project: Path, work: Path, deadline: float) -> list[str]:
    """The Python files ruff fails on alone (at most :data:`RUFF_PROBED_FILES` tried, until
    ``deadline``): what the learner is told to look at when ruff fails on the project."""
    candidates = sorted(
        p.relative_to(project).as_posix()
        for p in project.rglob("*")
        if p.suffix in (".py", ".pyi") and p.is_file()
    )
    failing = []
    for rel in candidates[:RUFF_PROBED_FILES]:
        if time.monotonic() > deadline:
            break
        try:
            if _ruff(config, project, work, rel) is None:
                failing.append(rel)
        except subprocess.TimeoutExpired:
            failing.append(rel)
    return failing


def run_ruff(check: str, config: Path, staged: StagedSubmission, work: Path) -> TestOutcome:
    """``ruff check`` over the staged copy with ``config``; passed when it finds nothing.

    When ruff itself fails on the project (see the module doc), the outcome is ``error``, with
    the files ruff stops on named; :func:`run_quality_gates` flags it for manual review.
    """
    project = staged.path
    started = time.monotonic()
    try:
        findings = _ruff(config, project, work, ".")
    except subprocess.TimeoutExpired:
        return TestOutcome(
            check, "error", RUFF_TIMEOUT, f"ruff did not finish within {RUFF_TIMEOUT:.0f} seconds"
        )
    if findings is None:
        culprits = _files_ruff_stops_on(config, project, work, started + RUFF_TIMEOUT)
        named = ", ".join(culprits[:SHOWN]) + (" and others" if len(culprits) > SHOWN else "")
        where = f"it stops with an error on {named}" if culprits else "it stops with an error"
        return TestOutcome(
            check,
            "error",
            time.monotonic() - started,
            f"ruff could not check your project: {where}. This usually means an expression or "
            "type nested thousands of levels deep, which ruff cannot read; rewrite or remove "
            "it, then grade again. An instructor reviews this criterion.",
        )
    seconds = time.monotonic() - started
    if not findings:
        return TestOutcome(check, "passed", seconds, "ruff found nothing to fix")
    return TestOutcome(check, "failed", seconds, ruff_message(findings, project, staged, config))


def ruff_message(findings: list[Any], project: Path, staged: StagedSubmission, config: Path) -> str:
    """What ruff found, counted by rule, the first few with their places, and how to see all."""
    counts: dict[str, int] = {}
    shown: list[str] = []
    for finding in findings:
        code = str(finding.get("code") or "syntax-error")
        counts[code] = counts.get(code, 0) + 1
        if len(shown) < SHOWN:
            name = Path(str(finding.get("filename", "?")))
            where = name.relative_to(project) if name.is_relative_to(project) else name
            row = finding.get("location", {}).get("row", "?")
            shown.append(f"{where.as_posix()}:{row} {code} {finding.get('message', '')}")
    rules = ", ".join(f"{n} {code}" for code, n in sorted(counts.items()))
    # As run from the learner's lab folder (labs/LAB/starter, two folders under the settings
    # file): a path relative to wherever this copy was graded from would name host folders, and
    # mean nothing to a learner whose upload was graded elsewhere.
    command = f"ruff check --config ../../{config.name} --ignore-noqa ."
    return (
        f"ruff found {len(findings)} problem(s) ({rules}): {'; '.join(shown)}. "
        f"See them all with `{command}` in your project."
    )


# the learner's own tests -----------------------------------------------------------------------


@dataclass(frozen=True)
class FileCoverage:
    path: str  # relative to the project, POSIX
    statements: int
    missing: tuple[int, ...]
    branches: int = 0  # measured only when the gate says branch = true
    covered_branches: int = 0

    @property
    def covered(self) -> int:
        return self.statements - len(self.missing)

    @property
    def measured(self) -> int:
        """What the percentage divides by: statements, plus branches when they were measured
        (coverage.py's own total)."""
        return self.statements + self.branches

    @property
    def hit(self) -> int:
        return self.covered + self.covered_branches


def run_learner_tests(
    check: str,
    gate: LearnerTestsGate,
    rubric: Rubric,
    staged: StagedSubmission,
    work: Path,
    database: str,
    limit: float,
    mode: str = "local",
    memo: GateMemo | None = None,
) -> TestOutcome:
    """Run the learner's tests with coverage in a hardened child (in official ``mode``, in a
    sandbox of its own: :mod:`grader.executors.official.gates`); judge what came back against
    ``gate.min_coverage`` (a run found in ``memo`` is judged the same way)."""
    project = staged.path
    folder = project / gate.tests
    files = sorted(p.relative_to(project).as_posix() for p in folder.rglob("test_*.py"))
    if not folder.is_dir() or not files:
        return TestOutcome(
            check,
            "failed",
            0.0,
            f"There are no tests in {gate.tests}/: write your own tests there, in files named "
            "test_*.py with functions named test_*.",
        )
    work.mkdir(parents=True, exist_ok=True)
    # The rubric's patterns are project-relative; coverage.py matches absolute paths.
    omit = (*COVERAGE_OMIT, *(f"*/{pattern}" for pattern in gate.omit))

    def measured_run() -> tuple[CheckRun, list[FileCoverage] | None]:
        if mode == "official":
            from grader.executors.official.gates import run_learner_tests_in_sandbox

            run, coverage, root = run_learner_tests_in_sandbox(
                rubric, staged, work, files, gate.cover, omit, limit, database, gate.branch
            )
            return run, coverage_files(coverage, root)
        run = run_checks(
            rubric=rubric,
            staged=staged,
            work=work,
            database=database,
            timeout=limit,
            checks=CheckSet(
                folder=project,  # conftest.py files from the project root down are the learner's
                node_ids=tuple(files),
                learner=True,
                coverage=tuple(project / package for package in gate.cover),
                coverage_omit=omit,
                coverage_branch=gate.branch,
            ),
        )
        return run, coverage_files(work / "coverage.json", project)

    if memo is None:
        run, measured = measured_run()
    else:
        # Everything the run depends on; the threshold is applied afterwards, by the asker.
        key = (
            staged.digest, replace(gate, min_coverage=0), rubric.settings_module,
            rubric.migrations, database, mode, limit,
        )  # fmt: skip
        run, measured = memo.learner_run(key, measured_run)
    return judge_learner_tests(check, gate, run, measured, limit)


def judge_learner_tests(
    check: str,
    gate: LearnerTestsGate,
    run: CheckRun,
    measured: list[FileCoverage] | None,
    limit: float,
) -> TestOutcome:
    """The gate's outcome: every test passed, and coverage (``measured``: what
    :func:`coverage_files` read after the run) reached ``gate.min_coverage``."""
    seconds = run.seconds
    tests = gate.tests
    rerun = f"Run `pytest {tests}` in your project to see why."
    report = run.report
    if run.timed_out:
        return TestOutcome(
            check,
            "failed",
            seconds,
            f"Your tests in {tests}/ did not finish within {limit:.0f} seconds: look for a test "
            "that waits forever or loops.",
        )
    if report is not None and report.fatal and report.fatal.get("stage") == "grader":
        # Official mode: the sandbox could not give the tests what they need (its PostgreSQL
        # did not start). Not a verdict on the learner's work: an error, flagged for review.
        return TestOutcome(check, "error", seconds, report.fatal.get("message"))
    if report is None or report.exit_code is None:
        message = report.fatal.get("message") if report and report.fatal else None
        return TestOutcome(
            check,
            "failed",
            seconds,
            f"Your tests in {tests}/ could not run ({message or 'the process ended early'}). "
            + rerun,
        )
    if report.collection_errors:
        return TestOutcome(
            check,
            "failed",
            seconds,
            f"pytest could not load every test file in {tests}/: {report.collection_errors[0]}. "
            + rerun,
        )
    outcomes = list(report.tests.values())
    failing = [o for o in outcomes if o.outcome in ("failed", "error")]
    if not outcomes:
        return TestOutcome(
            check,
            "failed",
            seconds,
            f"pytest found no test functions in {tests}/: name them test_* (in test_*.py files).",
        )
    if failing:
        first = "; ".join(f"{o.nodeid} ({o.message or o.outcome})" for o in failing[:SHOWN])
        return TestOutcome(
            check,
            "failed",
            seconds,
            f"{len(failing)} of your {len(outcomes)} tests failed: {first}. " + rerun,
        )
    where = (
        "your project"
        if gate.cover == (".",)
        else " and ".join(f"{package}/" for package in gate.cover)
    )
    if measured is None:
        return TestOutcome(
            check,
            "error",
            seconds,
            f"Your {len(outcomes)} tests passed, but coverage of {where} could not be measured.",
        )
    statements = sum(f.measured for f in measured)
    covered = sum(f.hit for f in measured)
    percent = 100.0 * covered / statements if statements else 0.0
    counted = "statements and branches" if gate.branch else "statements"
    summary = (
        f"your {len(outcomes)} tests pass and cover {percent:.1f}% of {where} "
        f"({covered} of {statements} {counted})"
    )
    if statements and covered * 100 >= gate.min_coverage * statements:
        return TestOutcome(check, "passed", seconds, summary[0].upper() + summary[1:] + ".")
    weakest = sorted((f for f in measured if f.hit < f.measured), key=lambda f: f.hit / f.measured)
    lines = ", ".join(
        f"{f.path} {100 * f.hit / f.measured:.0f}% "
        + (f"(missing {_ranges(f.missing)})" if f.missing else "(branches not taken)")
        for f in weakest[:SHOWN]
    )
    return TestOutcome(
        check,
        "failed",
        seconds,
        f"{summary[0].upper() + summary[1:]}; the lab asks for {gate.min_coverage}%. Least "
        f"covered: {lines}. Run `coverage run -m pytest {tests} && coverage report -m` to see "
        "every line your tests miss.",
    )


def coverage_files(path: Path, project: Path) -> list[FileCoverage] | None:
    """coverage.py's JSON report read defensively (the learner's code ran in the process that
    wrote it); None when it is missing or malformed."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = data["files"]
        found = []
        for name, entry in files.items():
            missing = tuple(int(n) for n in entry["missing_lines"])
            summary = entry["summary"]
            statements = int(summary["num_statements"])
            branches = int(summary.get("num_branches", 0))
            covered_branches = int(summary.get("covered_branches", 0))
            if not 0 <= covered_branches <= branches:
                return None  # not what coverage.py writes: the report was tampered with
            file = Path(name)
            if file.is_absolute():
                file = file.relative_to(project)
            found.append(
                FileCoverage(file.as_posix(), statements, missing, branches, covered_branches)
            )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return found


def _ranges(numbers: tuple[int, ...]) -> str:
    """``(3, 4, 5, 9)`` → ``"3-5, 9"``; at most a few ranges, then "…"."""
    spans: list[str] = []
    start = previous = numbers[0]
    for number in (*numbers[1:], None):
        if number is not None and number == previous + 1:
            previous = number
            continue
        spans.append(f"{start}-{previous}" if previous != start else str(start))
        if number is not None:
            start = previous = number
    return ", ".join(spans[:4]) + (", …" if len(spans) > 4 else "")
