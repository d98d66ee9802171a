"""Executors: where a rubric's checks run. One is chosen per grading by mode and lab kind.

Each executor has the interface of :class:`~grader.executors.base.Executor`: it takes a
:class:`~grader.executors.base.RunRequest` and returns a :class:`~grader.executors.base.CheckRun`
(the checks' report, timings and integrity flags), so the pipeline treats every mode alike.
:func:`choose_executor` picks one by mode and lab kind:

- :mod:`grader.executors.local`: a hardened child pytest process (``python -I``, scrubbed
  environment, the grader's own pytest configuration) running the hidden checks in process with
  the project; the child side is :mod:`grader.executors.harness`.
- :mod:`grader.executors.official`: the project runs in a bubblewrap sandbox and the checks run
  in a trusted process that never imports learner code.
- :mod:`grader.executors.notebook`: nbgrader's autograde for notebook labs (lab03).
- :mod:`grader.executors.selfcheck`: the learners' edition, which has no hidden checks and runs
  the lab's public tests instead.
- :mod:`grader.executors.gates`: quality gates (ruff, the learner's own tests under coverage),
  which run beside the checks of every executor.

Layering: executors import the engine (rubric, staging, scoring, result) and never the pipeline,
the course tools, the instructors' tools or the CLI (``tests/grader/test_layers.py``).
"""

from __future__ import annotations

from grader.errors import UsageError
from grader.executors.base import CheckRun, Executor, RunRequest
from grader.rubric import Rubric

__all__ = ["CheckRun", "Executor", "RunRequest", "choose_executor", "is_self_check"]


def is_self_check(rubric: Rubric) -> bool:
    """True in a copy of the course without the lab's hidden checks (the learners' edition)."""
    return not rubric.hidden_dir.is_dir()


def choose_executor(rubric: Rubric, mode: str, database: str, repeat: int = 1) -> Executor:
    """The executor for ``rubric`` in ``mode``; a one-line UsageError for what cannot be done.

    Refusals come before anything is staged: an unknown mode, ``--repeat`` outside official
    mode, official mode without bubblewrap or root, on a PostgreSQL server URL or on the
    learners' edition.
    """
    if mode not in ("local", "official"):
        raise UsageError(f"Unknown grading mode {mode!r}: use 'local' or 'official'.")
    if repeat != 1 and mode != "official":
        raise UsageError("--repeat applies to official grading only; add --official.")
    public = is_self_check(rubric)
    if mode == "official":
        from grader.executors.official.runner import OfficialExecutor, check_official_request

        check_official_request(database, public)
        if rubric.notebook is not None:
            from grader.executors.official.notebook import OfficialNotebookExecutor

            return OfficialNotebookExecutor()
        return OfficialExecutor()
    if public:
        from grader.executors.selfcheck import SelfCheckExecutor

        return SelfCheckExecutor()
    if rubric.notebook is not None:
        from grader.executors.notebook.runner import NotebookExecutor

        return NotebookExecutor()
    from grader.executors.local import LocalExecutor

    return LocalExecutor()
