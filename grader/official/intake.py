"""Accept a submission before it is staged: a folder or an archive, checked for what staging cannot
say clearly. Both grading modes use it (:mod:`grader.pipeline`).

- **Archives** (``.zip``, ``.tar.gz``, ``.tgz``, ``.tar``) are unpacked into the grader's own
  folder under the same limits staging applies (:class:`grader.staging.StageLimits`: file
  count, total size, size per file). The declared sizes are checked before anything is written,
  the bytes actually written are counted while writing, and a zip whose content is more than
  :data:`MAX_RATIO` times its compressed size is refused as a zip bomb. A member with an absolute
  path, a ``..`` component, a link or a device is refused, never extracted. When everything
  sits in one top folder, that folder is graded.
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
import re
import shutil
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO

from grader.errors import SubmissionError, UsageError
from grader.rubric import Rubric
from grader.staging import SKIP_DIRS, StagedSubmission, StageLimits

ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")
MAX_RATIO = 100  # real projects compress 3-10x; a zip bomb compresses thousands of times
RATIO_FLOOR_BYTES = 1024 * 1024  # tiny archives may compress well without being bombs
_DRIVE = re.compile(r"^[A-Za-z]:")
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
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
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


def is_archive(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES)


def _member_path(archive: Path, name: str) -> PurePosixPath | None:
    """The safe relative path of an archive member, None for the archive's own root entry."""
    unsafe = (
        "\x00" in name
        or name.startswith(("/", "\\"))
        or _DRIVE.match(name) is not None
        or ".." in PurePosixPath(name.replace("\\", "/")).parts
    )
    if unsafe:
        raise _refuse(
            f"{archive.name} holds a file with an unsafe path ({name[:120]!r}): an archive may "
            "only hold paths inside the project folder, never absolute paths or '..'. Make the "
            "archive again from inside your project folder (for example `cd myproject && zip -r "
            "../submission.zip .`) and submit that."
        )
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise _refuse(
            f"{archive.name} holds a file whose name is not valid UTF-8; rename it using letters, "
            "digits, '-', '_' and '.', then make the archive again."
        ) from None
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", ".")]
    return PurePosixPath(*parts) if parts else None


def _too_big(archive: Path, limits: StageLimits, what: str) -> SubmissionError:
    return _refuse(
        f"{archive.name} {what}; a submission may hold at most {limits.max_files} files, "
        f"{limits.max_bytes // (1024 * 1024)} MiB in all and "
        f"{limits.max_file_bytes // (1024 * 1024)} MiB per file, so it was not unpacked. Remove "
        "data files, databases and virtual environments, then make the archive again."
    )


def _copy_capped(src: IO[bytes], target: Path, cap: int, archive: Path, limits: StageLimits) -> int:
    """Copy at most ``cap`` bytes; more means the archive lied about its sizes."""
    written = 0
    with target.open("wb") as out:
        while chunk := src.read(64 * 1024):
            written += len(chunk)
            if written > cap:
                raise _too_big(archive, limits, "unpacks to more than its headers declare")
            out.write(chunk)
    return written


def _corrupt(archive: Path, kind: str) -> SubmissionError:
    return _refuse(
        f"{archive.name} is not a readable {kind} archive (it may be damaged or only partly "
        "uploaded). Make it again from your project folder, or submit the folder itself."
    )


def _extract_zip(archive: Path, dest: Path, limits: StageLimits) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            files = [i for i in infos if not i.is_dir()]
            if len(files) > limits.max_files:
                raise _too_big(archive, limits, f"holds {len(files)} files")
            declared = sum(i.file_size for i in files)
            packed = sum(i.compress_size for i in files)
            if declared > limits.max_bytes:
                raise _too_big(archive, limits, f"unpacks to {declared // (1024 * 1024)} MiB")
            if declared > RATIO_FLOOR_BYTES and declared > MAX_RATIO * max(packed, 1):
                raise _refuse(
                    f"{archive.name} unpacks to {declared // 1024} KiB from {packed // 1024} KiB, "
                    f"more than {MAX_RATIO} times its size, which is how a zip bomb looks; it was "
                    "not unpacked. Submit an archive of your project folder only."
                )
            for info in infos:
                rel = _member_path(archive, info.filename)
                if rel is None:
                    continue
                if (info.external_attr >> 16) & 0o170000 == 0o120000:
                    raise _refuse(
                        f"{archive.name} holds a symbolic link ({rel}); submissions may hold only "
                        "ordinary files. Replace the link with the file itself."
                    )
                target = dest / rel
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                if info.file_size > limits.max_file_bytes:
                    raise _too_big(archive, limits, f"holds {rel}, {info.file_size // 1024} KiB")
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src:
                    _copy_capped(src, target, info.file_size, archive, limits)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, RuntimeError, NotImplementedError):
        raise _corrupt(archive, "zip") from None


def _tar_members(tf: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    """Members one at a time: a member's header is checked before its data is read."""
    while (member := tf.next()) is not None:
        yield member


def _extract_tar(archive: Path, dest: Path, limits: StageLimits) -> None:
    files = 0
    total = 0
    try:
        with tarfile.open(archive, "r:*") as tf:
            for member in _tar_members(tf):
                rel = _member_path(archive, member.name)
                if rel is None:
                    continue
                target = dest / rel
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                if not member.isreg():
                    raise _refuse(
                        f"{archive.name} holds {rel}, which is a link or a device; submissions "
                        "may hold only ordinary files. Replace it with the file itself."
                    )
                files += 1
                total += member.size
                if files > limits.max_files:
                    raise _too_big(archive, limits, f"holds more than {limits.max_files} files")
                if member.size > limits.max_file_bytes:
                    raise _too_big(archive, limits, f"holds {rel}, {member.size // 1024} KiB")
                if total > limits.max_bytes:
                    raise _too_big(
                        archive,
                        limits,
                        f"unpacks to more than {limits.max_bytes // (1024 * 1024)} MiB",
                    )
                source = tf.extractfile(member)
                if source is None:
                    raise _corrupt(archive, "tar")
                target.parent.mkdir(parents=True, exist_ok=True)
                with source:
                    _copy_capped(source, target, member.size, archive, limits)
    except (tarfile.TarError, EOFError, OSError, ValueError):
        raise _corrupt(archive, "tar") from None


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
    if path.name.lower().endswith(".zip"):
        _extract_zip(path, scratch, limits)
    else:
        _extract_tar(path, scratch, limits)
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
