"""The learner-tests quality gate in official mode: the learner's own tests run in a sandbox.

Local mode runs the learner's ``test_*.py`` files in a hardened child process on the host
(:func:`grader.executors.gates.run_learner_tests`). Official mode runs the very same harness
job inside a fresh bubblewrap sandbox of its own (the job's uid, limits, no network; the
grader's package read-only at ``/grader/lib``, with no hidden check in it), and the host judges
what came back with local mode's judge (:func:`grader.executors.gates.judge_learner_tests`), so
both modes give one verdict for one submission.

What it can and cannot guarantee. The tests are the learner's code, so their pass/fail and the
coverage data come from the learner's process by nature, in both modes: official mode keeps
that process away from the grader (nothing it does reaches the host or the other checks), and
reads its report and coverage JSON as hostile input (regular files only, never a link or a
FIFO, size-capped, parsed defensively). A submission that forges its own report can earn this
one gate, as one that writes tests asserting nothing could; it cannot touch any other verdict.
"""

from __future__ import annotations

import sys
from pathlib import Path

from grader.executors.base import CheckRun
from grader.executors.official.oneshot import (
    JOB_MOUNT,
    OUT_MOUNT,
    copy_regular,
    readable_job_folder,
    run_job,
)
from grader.executors.official.postgres import sandbox_bindir
from grader.executors.official.sandbox import WORKSPACE
from grader.report import Job, parse_report
from grader.rubric import Rubric
from grader.staging import StagedSubmission

MAX_REPORT_BYTES = 4 * 1024 * 1024
MAX_COVERAGE_BYTES = 8 * 1024 * 1024


def sandbox_environment(rubric: Rubric) -> dict[str, str]:
    """The gate's environment inside the sandbox: local mode's child environment, with the
    sandbox's own HOME and TMPDIR and an in-memory SQLite database for pytest-django."""
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "DJANGO_SETTINGS_MODULE": rubric.settings_module,
        "DATABASE_URL": "sqlite:///:memory:",
    }


def run_learner_tests_in_sandbox(
    rubric: Rubric,
    staged: StagedSubmission,
    work: Path,
    files: list[str],
    cover: tuple[str, ...] | list[str],
    omit: tuple[str, ...],
    limit: float,
    database: str = "sqlite",
) -> tuple[CheckRun, Path, Path]:
    """Run the learner's test ``files`` (paths in the project) in a sandbox (see module doc),
    measuring the packages ``cover`` with coverage.py; ``(run, coverage JSON, project root as
    the coverage data names it)``, read by :func:`grader.executors.gates.coverage_files` and judged
    by :func:`grader.executors.gates.judge_learner_tests`.

    Never raises for what the submission does: a run that times out, or writes no report, a
    malformed one or no coverage data, comes back as such (``report`` None, no coverage file),
    and the judge gives local mode's sentence for that case. On ``database="postgres"`` the
    tests run on a PostgreSQL server of this sandbox's own, as the checks do."""
    bindir = sandbox_bindir(database)
    project = staged.path
    work.mkdir(parents=True, exist_ok=True)
    job_dir, out_dir = work / "job", work / "out"
    job_dir.mkdir(exist_ok=True)
    (job_dir / "grader-pytest.ini").write_text(
        "[pytest]\npython_files = test_*.py\nconsider_namespace_packages = false\n"
    )
    Job(
        submission=WORKSPACE,
        checks_dir=WORKSPACE,
        ini_file=f"{JOB_MOUNT}/grader-pytest.ini",
        report_file=f"{OUT_MOUNT}/report.json",
        settings_module=rubric.settings_module,
        node_ids=files,
        migrations=True,
        conftest=True,  # the learner's tests need their own conftest.py files
        grader_fixtures=False,
        coverage_source=[f"{WORKSPACE}/{package}" for package in cover],
        coverage_omit=list(omit),
        coverage_report=f"{OUT_MOUNT}/coverage.json",
    ).write(job_dir / "job.json")
    readable_job_folder(job_dir)
    ended = run_job(
        project=project,
        work=work,
        command=["learner-tests", f"{JOB_MOUNT}/job.json", *([bindir] if bindir else [])],
        env=sandbox_environment(rubric),
        binds=((str(job_dir), JOB_MOUNT, False),),
        limit=limit,
        bindir=bindir,
    )
    report_copy, coverage_copy = work / "report.json", work / "coverage.json"
    report = None
    if not ended.timed_out and copy_regular(out_dir / "report.json", report_copy, MAX_REPORT_BYTES):
        report = parse_report(report_copy)
    if not copy_regular(out_dir / "coverage.json", coverage_copy, MAX_COVERAGE_BYTES):
        coverage_copy.unlink(missing_ok=True)
    run = CheckRun(report, ended.timed_out, ended.returncode, ended.seconds, "")
    return run, coverage_copy, Path(WORKSPACE)
