"""Quality gates: rubric criteria decided by a tool run on the submission, not by hidden checks.

ARCHITECTURE decision 2 lets a criterion be decided "by a quality gate (ruff, the learner's own
test coverage with coverage.py)". From lab04 on a rubric may say, instead of naming checks:

``kind = "learner-tests"``
    The learner's own tests (``tests = "tests/yours"``) all pass, run in the same hardened child
    process as the hidden checks, and cover at least ``min_coverage`` percent of the packages in
    ``cover`` (``["blog", "api"]``), measured with coverage.py over exactly that run.
``kind = "ruff"``
    ``ruff check`` finds nothing in the staged copy, with the course's settings file ``config``
    (relative to the rubric; the submission's own ruff settings are never read).

:mod:`grader.gates.spec` reads and validates these rubric entries (the rubric loader calls it);
:mod:`grader.gates.run` runs them and reports each as one outcome that the scoring treats like
any check's. This package imports neither on import, so :mod:`grader.rubric` can use the first
without importing the grader's runner.
"""
