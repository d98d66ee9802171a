"""The instructors' gradebook: a real database (SQLite by default, PostgreSQL when configured).

- :func:`gradebook_url` decides where the gradebook is: ``--gradebook URL``, else
  ``GRADER_GRADEBOOK_URL``, else ``<course root>/.grader/gradebook.sqlite3``. ``postgres://`` and
  ``postgresql://`` URLs use the psycopg 3 driver; a plain path means a SQLite file.
- :class:`Gradebook` (:mod:`grader.instructors.gradebook.store`): results, grades, overrides, audit.
- The schema is migrated by Alembic when a gradebook is opened
  (:mod:`grader.instructors.gradebook.migrate`).

SQLAlchemy and Alembic are imported only by the gradebook itself, so learners grading their own
work never need them (they come with the ``instructor`` extra).
"""

from __future__ import annotations

import os
from pathlib import Path

from grader.instructors.gradebook.store import AuditView, Gradebook, GradeView, LearnerInfo

ENV_URL = "GRADER_GRADEBOOK_URL"
DEFAULT_FILE = Path(".grader") / "gradebook.sqlite3"

__all__ = [
    "AuditView",
    "GradeView",
    "Gradebook",
    "LearnerInfo",
    "gradebook_url",
    "open_course_gradebook",
]


def gradebook_url(given: str | None, course_root: Path) -> str:
    """The SQLAlchemy URL of the gradebook (see module doc)."""
    url = given or os.environ.get(ENV_URL) or ""
    if not url:
        path = course_root / DEFAULT_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path.resolve()}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if "://" not in url:  # a file path
        path = Path(url).expanduser().resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"
    return url


def open_course_gradebook(given: str | None) -> tuple[Path, Gradebook]:
    """The course root found from the working folder, and its gradebook (``given`` URL, else the
    default of :func:`gradebook_url`). Shared by the ``cohort`` and ``dashboard`` commands."""
    from grader.labs import find_course_root

    root = find_course_root()
    return root, Gradebook.open(gradebook_url(given, root))
