"""Official grading: the submission runs in a bubblewrap sandbox; the grade is decided outside.

Local mode (:mod:`grader.executors.local`) runs the rubric's checks in a hardened child process that
also imports the learner's project, so a hostile submission could still tamper with the verdict.
Official mode removes that possibility (ARCHITECTURE decisions 4 and 6,
``shared/research/grader-security.md`` design "v2"):

1. :mod:`grader.staging.intake` accepts a folder or a ``.zip``/``.tar.gz`` archive and refuses
   unsafe input with a sentence saying what to fix (both modes use it).
2. :mod:`grader.executors.official.sandbox` builds the bubblewrap command line: no network (a
   private
   network namespace with only loopback), a user id of its own per concurrent job, the Python
   runtime read-only at its real path, a private ``/tmp``, rlimits, a scrubbed environment, and a
   pid namespace whose death ends every process in it.
3. :mod:`grader.executors.official.agent` is the only grader code that runs inside the sandbox. It
   copies
   the staged submission into a size-capped tmpfs, starts Django, builds the database and serves
   the project over HTTP on ``127.0.0.1:8000`` in the sandbox's own network namespace. It also
   answers the grader's narrow inspection requests (installed apps, a settings module imported
   in a fresh interpreter, a database outage) with plain JSON. It never sees a hidden check or
   an expected value.
4. :mod:`grader.executors.official.trusted` is a separate pytest process, started with
   ``nsenter --net=/proc/<sandbox pid>/ns/net``, that never imports learner code. It runs the
   *same* hidden rubric files as local mode with the out-of-process fixtures of
   :mod:`grader.executors.official.fixtures` (``api``, ``project``, ``database_outage``). Those
   fixtures talk to the sandbox over HTTP and judge every value on the trusted side.
5. :mod:`grader.executors.official.runner` orchestrates one run for :mod:`grader.pipeline` and
   returns
   the same :class:`~grader.executors.local.CheckRun` as local mode, plus integrity flags (a check
   that needs manual review, a flaky check, a tampered channel).
"""

from __future__ import annotations

from grader.executors.official.sandbox import official_unavailable_reason, require_official

__all__ = ["official_unavailable_reason", "require_official"]
