"""Child entry point: ``python -I -B -m grader.executors.harness JOB.json``.

Exit status is informational only; the parent reads the report file. The steps:

1. Put the staged submission first on ``sys.path`` (``-I`` left it off, along with PYTHONPATH,
   user site-packages and the current directory) and make it the working directory.
2. Import the rubric's settings module and set Django up. A failure here means no check can run:
   report it as ``fatal`` with one line naming the file and line in the submission.
3. Run the rubric's checks with pytest configured only by the grader: its own ini file and
   rootdir, no conftest, no addopts, no cache, only the plugins named here.

For the learner's own tests (a quality gate, :mod:`grader.executors.gates`) the job also names
folders for coverage.py to measure: measuring starts before step 2, so the project's module-level
code counts as its tests import it, and the JSON report is written before the outcomes are.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from grader.executors.harness.messages import describe_exception
from grader.executors.harness.tasks import start_services, stop_services
from grader.report import Job, Report

if TYPE_CHECKING:
    from coverage import Coverage


def _write_fatal(report_file: Path, stage: str, message: str) -> None:
    report = Report(fatal={"stage": stage, "message": message})
    report_file.write_text(report.to_json(), encoding="utf-8")


def _start_coverage(job: Job) -> Coverage | None:
    """coverage.py measuring the job's folders, started; None when the job measures nothing.

    Settings come only from the job (``config_file=False``): a ``.coveragerc`` or
    ``pyproject.toml`` in the submission cannot change what is measured.
    """
    if not job.coverage_source:
        return None
    from coverage import Coverage

    measure = Coverage(
        data_file=None,
        source=job.coverage_source,
        omit=job.coverage_omit,
        branch=job.coverage_branch,
        config_file=False,
    )
    measure.start()
    return measure


def _write_coverage(measure: Coverage, job: Job) -> None:
    """Stop measuring and write the JSON report; write nothing when no data was collected."""
    from coverage.exceptions import CoverageException

    measure.stop()
    assert job.coverage_report is not None
    with contextlib.suppress(CoverageException):  # no data: the parent says it is missing
        measure.json_report(outfile=job.coverage_report, ignore_errors=True)


def main(argv: list[str]) -> int:
    job = Job.read(Path(argv[0]))
    submission = Path(job.submission).resolve()
    report_file = Path(job.report_file)
    os.chdir(submission)
    sys.path.insert(0, str(submission))
    os.environ["DJANGO_SETTINGS_MODULE"] = job.settings_module
    measure = _start_coverage(job)
    # Before Django reads the settings: they take the Redis URLs from the environment.
    start_services(job.services, job.redis_url)

    try:
        import django

        django.setup()
    except BaseException as exc:  # any failure of the learner's settings or apps ends here
        where = job.settings_module.replace(".", "/") + ".py"
        _write_fatal(
            report_file,
            "settings",
            f"Django could not start with {job.settings_module} ({where}): "
            + describe_exception(exc, submission),
        )
        return 3

    import pytest

    from grader.executors.harness.report_plugin import ReportPlugin

    plugin = ReportPlugin(report_file, submission)
    args = [
        "-c",
        job.ini_file,
        "--rootdir",
        job.checks_dir,
        # Hidden checks: no conftest at all. Public self-check: only the pristine public tests'
        # own conftest (at or below checks_dir), never one the submission placed above it.
        *(["--confcutdir", job.checks_dir] if job.conftest else ["--noconftest"]),
        "-o",
        "addopts=",
        "-o",
        "django_find_project=false",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:stepwise",
        "-p",
        "pytest_django.plugin",
        # The grader's own fixtures, for its checks; the learner's tests bring their own.
        *(
            [
                "-p",
                "grader.executors.harness.fixtures",
                "-p",
                "grader.executors.harness.data",
                "-p",
                "grader.executors.harness.contract",
                "-p",
                "grader.executors.harness.tasks",
                "-p",
                "grader.executors.harness.observability",
                "-p",
                "grader.executors.harness.delivery",
            ]
            if job.grader_fixtures
            else []
        ),
        "--import-mode=importlib",
        "--tb=short",
        "-q",
    ]
    if not job.migrations:
        args.append("--no-migrations")
    # Whole files, not node ids: one stale id would make pytest refuse the entire run. The
    # parent cross-checks the reported ids against the rubric's list instead.
    files = dict.fromkeys(node.split("::", 1)[0] for node in job.node_ids)
    args += [os.path.join(job.checks_dir, name) for name in files]
    try:
        code = int(pytest.main(args, plugins=[plugin]))
    except BaseException as exc:  # a submission may raise anything, even SystemExit
        _write_fatal(report_file, "checks", describe_exception(exc, submission))
        return 3
    finally:
        stop_services()
    if measure is not None:
        _write_coverage(measure, job)
    plugin.write(code)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
