"""The grader's error types and the one place that maps them to exit codes.

Every failure a user can cause (an unknown lab, a missing folder, a submission that cannot be
imported) is raised as a `GraderError` subclass carrying a sentence that says what to do. The CLI
prints that sentence and exits with the class's `exit_code`; it never prints a traceback for them.

Exit codes (documented in docs/grader.md; keep the two in step):

====  ==========================================================================
code  meaning
====  ==========================================================================
0     graded, every criterion passed
1     graded, at least one criterion failed (the score is in the table and JSON)
2     usage error: unknown lab, bad option, missing folder; nothing was graded
3     the submission could not be graded (status ``error``): syntax error,
      settings that fail to import, empty workspace, too large
4     the checks ran out of time (status ``timeout``)
5     internal error in the grader or a rubric: please report it
====  ==========================================================================
"""

from __future__ import annotations

EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_SUBMISSION_ERROR = 3
EXIT_TIMEOUT = 4
EXIT_INTERNAL = 5


class GraderError(Exception):
    """An error with a learner-facing message; ``str(error)`` is that message."""

    exit_code = EXIT_INTERNAL


class UsageError(GraderError):
    """The command line or its paths are wrong; nothing was graded."""

    exit_code = EXIT_USAGE


class RubricError(GraderError):
    """A rubric file (or its hidden tests) is malformed: a course-author bug, not the learner's."""

    exit_code = EXIT_INTERNAL


class SubmissionError(GraderError):
    """The submission cannot be graded as it stands; the message says what to fix.

    ``stage`` names the pipeline stage that refused it (``stage``, ``syntax``, ``settings``,
    ``collect``) and lands in the result JSON.
    """

    exit_code = EXIT_SUBMISSION_ERROR

    def __init__(self, message: str, *, stage: str) -> None:
        super().__init__(message)
        self.stage = stage


class LocatedError(Exception):
    """A problem at a place in a course file: ``str(error)`` is ``path:line: message``.

    Shared by the lab generator (markers), the generated-block tool and the agenda checker, so
    every author-facing error reads the same way and editors can jump to it. ``line`` is 1-based;
    0 means the file as a whole.
    """

    def __init__(self, path: object, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message
