"""Unpack a submitted archive safely: the one extractor for every way a submission arrives.

Used by single gradings (:mod:`grader.staging.intake`, local and official mode alike) and by
cohort grading (:mod:`grader.instructors.cohort.submissions`: uploaded archives and ``git archive``
output), so the same upload is accepted or refused with the same sentence whichever way it is
graded.

Rules, under the limits staging applies (:class:`grader.staging.StageLimits`):

- the declared sizes are checked before anything is written, and the bytes actually written are
  counted while writing (headers can lie);
- a zip whose content is more than :data:`MAX_RATIO` times its compressed size is refused as a
  zip bomb;
- a member with an absolute path, a drive letter, a ``..`` component or a NUL byte, and a
  symbolic link, hard link or device, are refused, never extracted or skipped: skipping would
  leave the learner wondering why a file went missing.

Every refusal is :class:`UnsafeArchive`, whose text is a complete sentence for the learner that
says what to change; callers wrap it in their own error type.
"""

from __future__ import annotations

import io
import re
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO

from grader.staging.stage import StageLimits

ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")
MAX_RATIO = 100  # real projects compress 3-10x; a zip bomb compresses thousands of times
RATIO_FLOOR_BYTES = 1024 * 1024  # tiny archives may compress well without being bombs
_DRIVE = re.compile(r"^[A-Za-z]:")


class UnsafeArchive(Exception):
    """An archive that was not (fully) unpacked; ``str`` is the sentence to show the learner."""


def is_archive(path: Path) -> bool:
    """True for a file whose name ends in one of :data:`ARCHIVE_SUFFIXES` (any case)."""
    return path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES)


def extract(
    source: Path | bytes,
    dest: Path,
    *,
    limits: StageLimits | None = None,
    name: str | None = None,
    kind: str | None = None,
) -> None:
    """Unpack ``source`` (an archive file, or a tar archive's bytes) into ``dest``.

    ``kind`` is ``"zip"`` or ``"tar"`` (any compression); by default it follows the file name.
    ``name`` is how messages call the archive (default: the file's name). ``dest`` must be the
    caller's own empty folder: on UnsafeArchive it may hold part of the archive.
    """
    limits = limits or StageLimits()
    label = name or (source.name if isinstance(source, Path) else "the archive")
    if kind is None:
        kind = "zip" if isinstance(source, Path) and source.name.lower().endswith(".zip") else "tar"
    if kind == "zip":
        if not isinstance(source, Path):
            raise ValueError("zip archives are read from a file")
        _extract_zip(source, dest, limits, label)
    else:
        _extract_tar(source, dest, limits, label)


def _member_path(label: str, name: str) -> PurePosixPath | None:
    """The safe relative path of an archive member, None for the archive's own root entry."""
    unsafe = (
        "\x00" in name
        or name.startswith(("/", "\\"))
        or _DRIVE.match(name) is not None
        or ".." in PurePosixPath(name.replace("\\", "/")).parts
    )
    if unsafe:
        raise UnsafeArchive(
            f"{label} holds a file with an unsafe path ({name[:120]!r}): an archive may "
            "only hold paths inside the project folder, never absolute paths or '..'. Make the "
            "archive again from inside your project folder (for example `cd myproject && zip -r "
            "../submission.zip .`) and submit that."
        )
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise UnsafeArchive(
            f"{label} holds a file whose name is not valid UTF-8; rename it using letters, "
            "digits, '-', '_' and '.', then make the archive again."
        ) from None
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", ".")]
    return PurePosixPath(*parts) if parts else None


def _too_big(label: str, limits: StageLimits, what: str) -> UnsafeArchive:
    return UnsafeArchive(
        f"{label} {what}; a submission may hold at most {limits.max_files} files, "
        f"{limits.max_bytes // (1024 * 1024)} MiB in all and "
        f"{limits.max_file_bytes // (1024 * 1024)} MiB per file, so it was not unpacked. Remove "
        "data files, databases and virtual environments, then make the archive again."
    )


def _not_ordinary(label: str, rel: PurePosixPath) -> UnsafeArchive:
    return UnsafeArchive(
        f"{label} holds {rel}, which is a symbolic link, a hard link or a device; submissions "
        "may hold only ordinary files. Replace it with the file itself, then make the archive "
        "again."
    )


def _copy_capped(src: IO[bytes], target: Path, cap: int, label: str, limits: StageLimits) -> None:
    """Copy at most ``cap`` bytes; more means the archive lied about its sizes."""
    written = 0
    with target.open("wb") as out:
        while chunk := src.read(64 * 1024):
            written += len(chunk)
            if written > cap:
                raise _too_big(label, limits, "unpacks to more than its headers declare")
            out.write(chunk)


def _corrupt(label: str, kind: str) -> UnsafeArchive:
    return UnsafeArchive(
        f"{label} is not a readable {kind} archive (it may be damaged or only partly "
        "uploaded). Make it again from your project folder, or submit the folder itself."
    )


def _extract_zip(archive: Path, dest: Path, limits: StageLimits, label: str) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            files = [i for i in infos if not i.is_dir()]
            if len(files) > limits.max_files:
                raise _too_big(label, limits, f"holds {len(files)} files")
            declared = sum(i.file_size for i in files)
            packed = sum(i.compress_size for i in files)
            if declared > limits.max_bytes:
                raise _too_big(label, limits, f"unpacks to {declared // (1024 * 1024)} MiB")
            if declared > RATIO_FLOOR_BYTES and declared > MAX_RATIO * max(packed, 1):
                raise UnsafeArchive(
                    f"{label} unpacks to {declared // 1024} KiB from {packed // 1024} KiB, "
                    f"more than {MAX_RATIO} times its size, which is how a zip bomb looks; it was "
                    "not unpacked. Submit an archive of your project folder only."
                )
            for info in infos:
                rel = _member_path(label, info.filename)
                if rel is None:
                    continue
                if (info.external_attr >> 16) & 0o170000 == 0o120000:
                    raise _not_ordinary(label, rel)
                target = dest / rel
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                if info.file_size > limits.max_file_bytes:
                    raise _too_big(label, limits, f"holds {rel}, {info.file_size // 1024} KiB")
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src:
                    _copy_capped(src, target, info.file_size, label, limits)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, RuntimeError, NotImplementedError):
        raise _corrupt(label, "zip") from None


def _tar_members(tf: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    """Members one at a time: a member's header is checked before its data is read."""
    while (member := tf.next()) is not None:
        yield member


def _extract_tar(source: Path | bytes, dest: Path, limits: StageLimits, label: str) -> None:
    files = 0
    total = 0
    try:
        with (
            tarfile.open(source, "r:*")
            if isinstance(source, Path)
            else tarfile.open(fileobj=io.BytesIO(source), mode="r:*")
        ) as tf:
            for member in _tar_members(tf):
                rel = _member_path(label, member.name)
                if rel is None:
                    continue
                target = dest / rel
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                if not member.isreg():
                    raise _not_ordinary(label, rel)
                files += 1
                total += member.size
                if files > limits.max_files:
                    raise _too_big(label, limits, f"holds more than {limits.max_files} files")
                if member.size > limits.max_file_bytes:
                    raise _too_big(label, limits, f"holds {rel}, {member.size // 1024} KiB")
                if total > limits.max_bytes:
                    mib = limits.max_bytes // (1024 * 1024)
                    raise _too_big(label, limits, f"unpacks to more than {mib} MiB")
                extracted = tf.extractfile(member)
                if extracted is None:
                    raise _corrupt(label, "tar")
                target.parent.mkdir(parents=True, exist_ok=True)
                with extracted:
                    _copy_capped(extracted, target, member.size, label, limits)
    except (tarfile.TarError, EOFError, OSError, ValueError):
        raise _corrupt(label, "tar") from None
