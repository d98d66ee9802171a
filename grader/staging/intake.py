"""Accept a submission before it is staged: a folder or an archive, checked for what staging cannot
say clearly. Both grading modes use it (:mod:`grader.pipeline`).

- **Archives** (``.zip``, ``.tar.gz``, ``.tgz``, ``.tar``) are unpacked into the grader's own
  folder by :func:`grader.staging.archives.extract` (the extractor cohort grading uses too) under
  the limits staging applies; its refusals (unsafe paths, links, zip bombs, sizes) become
  SubmissionErrors here. When everything sits in one top folder, that folder is graded.
- **Folders**: a file name that is not valid UTF-8, or a symbolic link that points outside the
  folder, is refused with its name. Staging would otherwise skip the link silently, and the
  learner would never learn why a file went missing.
- **Layout** (after staging, :func:`check_layout`): ``manage.py`` at the top, and the rubric's
  settings module present. A folder one level too high, or another project altogether, gets
  a sentence saying so instead of an import error.

Every refusal is a :class:`~grader.errors.SubmissionError` whose message tells the learner what
to change.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from grader.errors import SubmissionError, UsageError
from grader.rubric import Rubric
from grader.staging.archives import UnsafeArchive, extract, is_archive
from grader.staging.stage import SKIP_DIRS, StagedSubmission, StageLimits, walk_tree

_SKIP_BYTES = {d.encode() for d in SKIP_DIRS}


def _refuse(message: str) -> SubmissionError:
    return SubmissionError(message, stage="stage")


def _shown(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


# --- folders --------------------------------------------------------------------------------------


def prescan_folder(folder: Path, limits: StageLimits | None = None) -> None:
    """Refuse non-UTF-8 file names and links leaving ``folder``; stop after ``max_files`` files
    (staging then refuses the count with its own message)."""
    limits = limits or StageLimits()
    root = os.fsencode(folder)
    real_root = os.path.realpath(root)
    seen = 0
    for dirpath, dirnames, filenames in walk_tree(root, limits):
        dirnames[:] = [d for d in dirnames if d not in _SKIP_BYTES and not d.endswith(b".egg-info")]
        for name in [*dirnames, *filenames]:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            try:
                name.decode("utf-8")
            except UnicodeDecodeError:
                raise _refuse(
                    f"The file name {_shown(rel)!r} is not valid UTF-8 (shown with � for the "
                    "bad bytes), so it cannot be graded. Rename it using letters, digits, '-', "
                    "'_' and '.', then grade again."
                ) from None
            if os.path.islink(full):
                target = os.path.realpath(full)
                if target != real_root and not target.startswith(real_root + b"/"):
                    raise _refuse(
                        f"{_shown(rel)} is a symbolic link to {_shown(os.readlink(full))}, "
                        "outside your project folder; the grader never follows links out of a "
                        "submission. Replace the link with the file itself (or delete it), then "
                        "grade again."
                    )
        seen += len(filenames)
        if seen > limits.max_files:
            return


# --- archives -------------------------------------------------------------------------------------


def _project_root(dest: Path) -> Path:
    """Descend through lone top folders (``myproject/``) to the folder to grade."""
    current = dest
    while not (current / "manage.py").exists():
        entries = [p for p in current.iterdir() if p.name != "__MACOSX"]
        if len(entries) != 1 or not entries[0].is_dir() or entries[0].is_symlink():
            break
        current = entries[0]
    return current


def open_submission(path: Path, scratch: Path, limits: StageLimits | None = None) -> Path:
    """The folder to stage for ``path``: the folder itself, or an archive unpacked in ``scratch``.

    A missing path is left to staging (a usage error with its own message).
    """
    limits = limits or StageLimits()
    if path.is_dir():
        prescan_folder(path, limits)
        return path
    if not path.exists():
        return path
    if not is_archive(path):
        raise UsageError(
            f"{path} is a file; give the folder that holds your project (manage.py), or a .zip "
            "or .tar.gz archive of it."
        )
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    try:
        extract(path, scratch, limits=limits)
    except UnsafeArchive as exc:
        raise _refuse(str(exc)) from None
    return _project_root(scratch)


# --- layout ---------------------------------------------------------------------------------------


def check_layout(staged: StagedSubmission, rubric: Rubric) -> None:
    """Refuse a staged copy that is not a Django project of this lab's shape (see module doc)."""
    root = staged.path
    if not (root / "manage.py").is_file():
        nested = sorted(p.parent.name for p in root.glob("*/manage.py"))
        if nested:
            raise _refuse(
                f"There is no manage.py at the top of the submission, but {nested[0]}/ has one: "
                "grade that folder (the one that holds manage.py) instead."
            )
        raise _refuse(
            "There is no manage.py at the top of the submission, so it is not a Django project "
            "folder. Grade the folder that holds manage.py, config/ and your apps."
        )
    parts = rubric.settings_module.split(".")
    module_file = Path(*parts[:-1], parts[-1] + ".py")
    package = Path(*parts, "__init__.py")
    if not (root / module_file).is_file() and not (root / package).is_file():
        raise _refuse(
            f"{module_file.as_posix()} is missing, so this is not the {rubric.lab} project: the "
            f"rubric runs your project with the settings module {rubric.settings_module}. Check "
            f"that you are grading your {rubric.lab} folder, not another lab's or project's."
        )


def _candidates(root: Path, depth: int) -> Iterator[Path]:
    if depth < 0:
        return
    try:
        children = sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink())
    except OSError:
        return
    for child in children:
        if child.name in SKIP_DIRS or child.name.startswith("."):
            continue
        if (child / "manage.py").is_file():
            yield child
        yield from _candidates(child, depth - 1)


def locate_project(root: Path, lab: str) -> Path:
    """The folder to grade inside what a learner submitted.

    In order: ``root`` itself if it holds ``manage.py``; ``labs/<lab>/starter`` (a clone of the
    whole course); the only folder with a ``manage.py`` within three levels (an archive with a
    top folder). Otherwise ``root``, and the grader's own message says what is missing.
    """
    if (root / "manage.py").is_file():
        return root
    workspace = root / "labs" / lab / "starter"
    if (workspace / "manage.py").is_file():
        return workspace
    found = list(_candidates(root, 2))
    return found[0] if len(found) == 1 else root
