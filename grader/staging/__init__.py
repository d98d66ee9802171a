"""Intake and staging: everything that happens to a submission before any check runs.

The pipeline calls these in order, and each refuses bad input with a
:class:`~grader.errors.SubmissionError` whose message tells the learner what to change:

1. :func:`open_submission` (:mod:`grader.staging.intake`): a folder or an archive; archives are
   unpacked by the one safe extractor (:mod:`grader.staging.archives`), shared with cohort
   grading.
2. :func:`stage_submission` (:mod:`grader.staging.stage`): a copy in the grader's own temporary
   folder, within :class:`StageLimits`; the learner's folder is only ever read.
3. :func:`check_layout` and :func:`check_syntax`: ``manage.py`` and the settings module where the
   rubric expects them, and every Python file compiles.

Both grading modes, and every executor, start from the :class:`StagedSubmission` this returns.
"""

from grader.staging.archives import UnsafeArchive, extract, is_archive
from grader.staging.intake import check_layout, locate_project, open_submission, prescan_folder
from grader.staging.stage import (
    SKIP_DIRS,
    StagedSubmission,
    StageLimits,
    check_syntax,
    digest_tree,
    stage_submission,
)

__all__ = [
    "SKIP_DIRS",
    "StageLimits",
    "StagedSubmission",
    "UnsafeArchive",
    "check_layout",
    "check_syntax",
    "digest_tree",
    "extract",
    "is_archive",
    "locate_project",
    "open_submission",
    "prescan_folder",
    "stage_submission",
]
