"""Child entry point: ``python -I -B -m grader.harness JOB.json``.

Exit status is informational only; the parent reads the report file. The steps:

1. Put the staged submission first on ``sys.path`` (``-I`` left it off, along with PYTHONPATH,
   user site-packages and the current directory) and make it the working directory.
2. Import the rubric's settings module and set Django up. A failure here means no check can run:
   report it as ``fatal`` with one line naming the file and line in the submission.
3. Run the rubric's checks with pytest configured only by the grader: its own ini file and
   rootdir, no conftest, no addopts, no cache, only the plugins named here.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from grader.harness.messages import describe_exception
from grader.harness.protocol import Job, Report


def _write_fatal(report_file: Path, stage: str, message: str) -> None:
    report = Report(fatal={"stage": stage, "message": message})
    report_file.write_text(report.to_json(), encoding="utf-8")


def main(argv: list[str]) -> int:
    job = Job.read(Path(argv[0]))
    submission = Path(job.submission).resolve()
    report_file = Path(job.report_file)
    os.chdir(submission)
    sys.path.insert(0, str(submission))
    os.environ["DJANGO_SETTINGS_MODULE"] = job.settings_module

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

    from grader.harness.report_plugin import ReportPlugin

    plugin = ReportPlugin(report_file, submission)
    args = [
        "-c",
        job.ini_file,
        "--rootdir",
        job.checks_dir,
        "--noconftest",
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
        "-p",
        "grader.harness.fixtures",
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
    plugin.write(code)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
