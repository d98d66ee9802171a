"""Child entry point for notebook labs:
``python -I -B -m grader.executors.notebook.harness JOB.json``.

Started by :func:`grader.executors.notebook.runner.run_notebook_checks` in the grader's temporary
course folder, with the same scrubbed environment, limits and timeout as the pytest child. Steps:

1. nbgrader's ``generate_assignment`` on the course's source notebook: this records every grade
   cell, with its hidden tests, in a fresh gradebook (``gradebook.db`` in the course folder).
2. nbgrader's ``autograde`` of the learner's notebook (``submitted/learner/<lab>/``): locked
   cells (setup, data, checks) are restored from the gradebook, hidden tests included, missing
   check cells are put back, and the notebook runs top to bottom in a fresh kernel that inherits
   this process's environment (``BLOGCRAFT_PROJECT_ROOT``, ``DATABASE_URL``, ...).
3. Each grade cell's score from the gradebook becomes one check, ``cell:<grade id>``, passed at
   full points; a failed one carries a one-line message from the autograded notebook
   (:func:`grader.executors.notebook.cells.check_messages`), never a traceback.

The report goes to the same report file, in the same format, as the pytest child's
(:mod:`grader.report`), and the time nbgrader took to ``timings.json`` beside
it.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from grader.executors.notebook import COURSE_ID, STUDENT_ID
from grader.executors.notebook.cells import (
    NotebookError,
    cell_durations,
    check_messages,
    read_notebook,
)
from grader.report import Report, TestOutcome

COURSE_BUG = "This is a problem in the course, not in your work: please report it."


def _fatal(report_file: Path, stage: str, message: str) -> int:
    report_file.write_text(Report(fatal={"stage": stage, "message": message}).to_json())
    return 3


def _autograde_failure(reason: str) -> str:
    if "DeadKernelError" in reason or "Kernel died" in reason:
        return (
            "The notebook's kernel stopped while it ran your cells (something in them ends the "
            "Python process, e.g. os._exit() or sys.exit(), or it ran out of memory). Run the "
            f"notebook from the top in Jupyter to find the cell. nbgrader said: {reason}"
        )
    return (
        f"nbgrader could not grade your notebook: {reason}. If you deleted or re-created cells, "
        "copy your answers into a fresh copy of the notebook (git checkout -- <the notebook>) and "
        "grade again."
    )


def collect(api: Any, course: Path, assignment: str, notebook: str, cell_timeout: int) -> Report:
    """The report of one autograded notebook: a check per grade cell, from the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(api.coursedir.db_url, COURSE_ID) as gradebook:
        submitted = gradebook.find_submission_notebook(notebook, assignment, STUDENT_ID)
        scores = [(g.name, g.auto_score, g.max_score) for g in submitted.grades]
    path = course / "autograded" / STUDENT_ID / assignment / f"{notebook}.ipynb"
    try:
        graded = read_notebook(path.read_bytes(), path.name)
        messages = check_messages(graded, cell_timeout)
        durations = cell_durations(graded)
    except (OSError, NotebookError):
        messages, durations = {}, {}
    report = Report(exit_code=0)
    for name, score, max_score in scores:
        passed = score is not None and float(score) >= float(max_score)
        message = None
        if not passed:
            message = messages.get(name) or (
                f"cell {name} scored {float(score or 0):g} of {float(max_score):g} points"
            )
        nodeid = f"cell:{name}"
        report.tests[nodeid] = TestOutcome(
            nodeid, "passed" if passed else "failed", durations.get(name, 0.0), message
        )
    return report


def main(argv: list[str]) -> int:
    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    report_file = Path(job["report_file"])
    course = Path(job["course"])
    assignment, notebook = str(job["assignment"]), str(job["notebook"])
    cell_timeout = int(job["cell_timeout"])
    timings: dict[str, float] = {}
    started = time.monotonic()
    try:
        from grader.executors.notebook.course import failure_reason, nbgrader_api

        api = nbgrader_api(course, cell_timeout=cell_timeout)
        timings["nbgrader_import"] = time.monotonic() - started
        mark = time.monotonic()
        result = api.generate_assignment(assignment)
        timings["nbgrader_generate"] = time.monotonic() - mark
        if not result.get("success"):
            return _fatal(
                report_file,
                "checks",
                f"nbgrader could not prepare the checks of {assignment} from the course's source "
                f"notebook ({failure_reason(result)}). {COURSE_BUG}",
            )
        mark = time.monotonic()
        result = api.autograde(assignment, STUDENT_ID)
        timings["nbgrader_autograde"] = time.monotonic() - mark
        if not result.get("success"):
            return _fatal(report_file, "checks", _autograde_failure(failure_reason(result)))
        report = collect(api, course, assignment, notebook, cell_timeout)
    except ImportError as exc:
        return _fatal(
            report_file,
            "checks",
            f"{assignment} is graded by nbgrader, which is not installed here ({exc}). Grade "
            f"with `nox -s grade {assignment}` (it installs it), or pip install -e "
            "'.[lab,notebook]'.",
        )
    except Exception as exc:  # nbgrader's own failures; the learner's code runs in the kernel
        return _fatal(report_file, "checks", _autograde_failure(f"{type(exc).__name__}: {exc}"))
    finally:
        (report_file.parent / "timings.json").write_text(json.dumps(timings), encoding="utf-8")
    report_file.write_text(report.to_json(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
