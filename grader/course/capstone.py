"""The capstone's reference projects: rendered from the copier template, never kept twice.

The capstone is not a slice of the blog in ``solutions/`` (each learner builds a service of
their own), so the lab generator does not make it. Its reference lives in
``solutions/capstone/``, apart from the blog's marked files (``solutions/labs.toml`` excludes the
folder):

- ``answers.toml``: the copier answers of the reference, a task manager (a domain other than
  the blog's, so no check can lean on the blog's names);
- ``edits.toml``: ``[[edits]]`` in the mutants' format (``file``, ``find`` once, ``replace``)
  applied to the rendered template: what the reference adds to what the template gives;
- ``files/``: new files copied over the result (a migration, tests).

:func:`render_template` renders ``templates/copier/capstone`` with given answers (the
template's defaults for the rest), as a learner's ``copier copy`` does; :func:`build_reference`
renders the reference. Both write into an empty or missing folder and raise
:class:`~grader.errors.RubricError` naming the file when the course's own files are wrong.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path
from typing import Any

from grader.course.mutants import Edit, Mutant, apply_mutant
from grader.errors import RubricError

TEMPLATE = Path("templates/copier/capstone")
REFERENCE = Path("solutions/capstone")


def render_template(root: Path, dest: Path, answers: dict[str, Any] | None = None) -> Path:
    """Render the capstone template into ``dest`` with ``answers`` over its defaults."""
    from copier import run_copy  # the authoring extra: only course authors and tests need it

    if dest.exists() and any(dest.iterdir()):
        raise RubricError(f"{dest} is not empty; render the capstone template into a new folder")
    run_copy(
        str((root / TEMPLATE).resolve()),
        str(dest),
        data=dict(answers or {}),
        defaults=True,
        unsafe=True,  # the template's own tasks and extensions: it is the course's file
        quiet=True,
        vcs_ref=None,
    )
    return dest


def reference_answers(root: Path) -> dict[str, Any]:
    path = root / REFERENCE / "answers.toml"
    try:
        answers = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RubricError(f"{path}: cannot read the reference's answers ({exc})") from None
    if not isinstance(answers, dict):
        raise RubricError(f"{path}: must be a mapping of copier answers")
    return answers


def reference_edits(root: Path) -> Mutant:
    """``edits.toml`` as a mutant (the same edit format, applied by the same function)."""
    path = root / REFERENCE / "edits.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        edits = tuple(
            Edit(str(e["file"]), str(e["find"]), str(e["replace"])) for e in data["edits"]
        )
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
        raise RubricError(f"{path}: not a list of [[edits]] ({exc})") from None
    return Mutant("reference", "the reference capstone's additions", (), edits)


def build_reference(root: Path, dest: Path) -> Path:
    """The reference capstone in ``dest``: the template, its answers, edits and files."""
    render_template(root, dest, reference_answers(root))
    apply_mutant(dest, reference_edits(root))
    files = root / REFERENCE / "files"
    if files.is_dir():
        shutil.copytree(files, dest, dirs_exist_ok=True)
    return dest
