"""An nbgrader course directory owned by the grader, and nbgrader's Python API pointed at it.

Used by the release step (``generate_assignment``) and by the grading child (``generate_assignment``
then ``autograde``). Every course lives in a temporary folder: nothing is read from or written to
``~/.jupyter``, ``/srv/nbgrader`` or the learner's files.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any

from grader.executors.notebook import COURSE_ID


def tools_path(path: str | None = None) -> str:
    """``PATH`` with this interpreter's ``bin`` folder first.

    nbgrader runs the ``alembic`` program, and Jupyter starts kernels with the ``python`` of the
    kernel spec, both looked up on ``PATH``; without the virtual environment's ``bin`` first they
    are missing (``FileNotFoundError: 'alembic'``) or another Python runs the notebook.
    """
    bin_dir = str(Path(sys.executable).parent)  # not resolved: a venv's python is a symlink
    parts = (path if path is not None else os.environ.get("PATH", "/usr/bin:/bin")).split(
        os.pathsep
    )
    return os.pathsep.join([bin_dir, *[p for p in parts if p and p != bin_dir]])


def _alembic_head_in_process() -> None:
    """Make nbgrader read its gradebook's schema version without starting ``alembic heads``.

    A new gradebook asks the ``alembic`` program for the head revision of nbgrader's migrations:
    a separate Python process that imports nbgrader again, 2.5 s on a quiet machine and 9 s on a
    busy one. The same answer comes from reading the migration scripts with alembic's library.
    When that fails, nbgrader keeps its own way (the program on ``PATH``).
    """
    with contextlib.suppress(Exception):
        import nbgrader.api
        from alembic.script import ScriptDirectory
        from nbgrader.dbutil import ALEMBIC_DIR

        head = ScriptDirectory(ALEMBIC_DIR).get_current_head()
        if head:
            nbgrader.api.get_alembic_version = lambda: head


def nbgrader_api(root: Path, *, cell_timeout: int = 60) -> Any:
    """nbgrader's ``NbGraderAPI`` for the course folder ``root`` (created when missing).

    ``root/source/<assignment>/`` holds source notebooks; nbgrader writes ``release/``,
    ``submitted/``, ``autograded/`` and ``gradebook.db`` next to it. Missing grade cells are put
    back before autograding, so a learner who deleted a check cell is still graded by it.
    """
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    _alembic_head_in_process()
    root.mkdir(parents=True, exist_ok=True)
    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.course_id = COURSE_ID
    config.Exchange.root = str(root / "exchange")
    config.Execute.timeout = cell_timeout
    config.OverwriteCells.add_missing_cells = True
    config.Autograde.create_student = True
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def failure_reason(result: dict[str, Any]) -> str:
    """One line from a failed nbgrader API call: the last line of its error, else of its log."""
    for key in ("error", "log"):
        lines = [line.strip() for line in str(result.get(key) or "").splitlines() if line.strip()]
        if lines:
            return lines[-1]
    return "no reason given"
