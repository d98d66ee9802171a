"""Canvas gradebook import CSV (Grades → Import in a Canvas course).

Layout, as Canvas exports and re-imports it: the header ``Student, ID, SIS User ID, SIS Login ID,
Section`` and one column per assignment; a second row starting ``Points Possible`` gives each
assignment's maximum. Canvas matches rows to its students by ``ID`` (its numeric user id), ``SIS
User ID`` or ``SIS Login ID``, so the roster should give at least one of ``canvas_user_id``,
``sis_user_id`` or ``sis_login_id``; when none is given, the ``learner_id`` is written as the SIS
User ID. An assignment column named ``Name (12345)`` updates Canvas assignment 12345; a name
without an id creates a new assignment on import.

Scores are the current grades (an instructor override counts). A learner on the roster without a
grade, and one whose submission could not be graded (status ``error`` or ``timeout``, with no
override), gets an empty cell, which Canvas leaves unchanged rather than setting to zero: a
submission the grader could not grade is never a 0 in the LMS. Why a cell is empty is in
``status-<lab>.csv`` beside it (:func:`grader.instructors.cohort.publish.status_csv`): a status
column here would be imported by Canvas as one more assignment.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from grader.instructors.exports.text import csv_cell
from grader.instructors.gradebook.store import GradeView, LearnerInfo

HEADER = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")


def assignment_column(name: str, canvas_assignment_id: str | None = None) -> str:
    """The column heading: ``name``, with ``(id)`` appended to target an existing assignment."""
    return f"{name} ({canvas_assignment_id})" if canvas_assignment_id else name


def canvas_csv(
    learners: Sequence[LearnerInfo],
    grades: Sequence[GradeView],
    column: str,
    max_points: int,
) -> str:
    """The import CSV for one assignment: every learner in ``learners``, in roster order."""
    by_learner = {g.learner.id: g for g in grades}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180, as Canvas writes it
    writer.writerow([*HEADER, column])
    writer.writerow(["Points Possible", "", "", "", "", max_points])
    for learner in learners:
        grade = by_learner.get(learner.id)
        sis_user = learner.sis_user_id or (
            None if (learner.canvas_user_id or learner.sis_login_id) else learner.id
        )
        writer.writerow(
            [
                csv_cell(learner.name),
                csv_cell(learner.canvas_user_id or ""),
                csv_cell(sis_user or ""),
                csv_cell(learner.sis_login_id or ""),
                csv_cell(learner.section or ""),
                "" if grade is None or not _counts(grade) else grade.points,
            ]
        )
    return out.getvalue()


def _counts(grade: GradeView) -> bool:
    """Whether ``grade`` is a score to import: graded, or set by an instructor's override."""
    return grade.status == "graded" or grade.override_points is not None
