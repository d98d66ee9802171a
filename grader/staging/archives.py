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
  leave the learner wondering why a file went missing;
- so is a member whose name has a part longer than a file system allows, more parts than
  ``limits.max_depth`` folders, or more than ``limits.max_path_bytes`` in all, and a file
  and a folder of the same name: each would otherwise fail half-way through writing;
- a tar archive's headers are read by :func:`scan_tar_headers` before :mod:`tarfile` parses
  any of them. Python's own parser reads a pax or GNU long-name header whole into memory and
  searches it with backtracking regular expressions (CVE-2024-6232 on 3.11.7: a crafted header
  takes hours; a long-name header declaring gigabytes takes gigabytes), so an extended header
  over :data:`MAX_PAX_BYTES` or :data:`MAX_LONGNAME_BYTES`, a malformed pax record, a pax
  record with a digit run over :data:`MAX_DIGIT_RUN`, and any entry type a project does not
  need (sparse files, vendor extensions) are refused first. Members then also pass
  :func:`tarfile.data_filter`, Python's own "safe to unpack" rules.

Every refusal is :class:`UnsafeArchive`, whose text is a complete sentence for the learner that
says what to change; callers wrap it in their own error type.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import re
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Protocol

from grader.staging.stage import StageLimits

ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")
MAX_RATIO = 100  # real projects compress 3-10x; a zip bomb compresses thousands of times
RATIO_FLOOR_BYTES = 1024 * 1024  # tiny archives may compress well without being bombs
_DRIVE = re.compile(r"^[A-Za-z]:")
NAME_MAX_BYTES = 255  # one path part, as Linux file systems allow
MAX_PAX_BYTES = 8 * 1024  # real pax headers (long names, mtimes, xattrs) take a few hundred
MAX_LONGNAME_BYTES = 4 * 1024  # a GNU long name is a path, and paths are capped far below this
MAX_DIGIT_RUN = 64  # tarfile's pax regexes backtrack over digit runs (quadratic in their length)
_DIGIT_RUN = re.compile(rb"\d{%d}" % (MAX_DIGIT_RUN + 1))
_BLOCK = 512
# Entry types a project may hold, by tar type flag. Links and devices are listed so that the
# extractor refuses them with its own sentence; they carry no data (tarfile ignores their size).
_DATA_TYPES = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE)
_NO_DATA_TYPES = (
    tarfile.DIRTYPE,
    tarfile.SYMTYPE,
    tarfile.LNKTYPE,
    tarfile.CHRTYPE,
    tarfile.BLKTYPE,
    tarfile.FIFOTYPE,
)
_EXTENDED = {tarfile.XHDTYPE: MAX_PAX_BYTES, tarfile.XGLTYPE: MAX_PAX_BYTES}
_EXTENDED |= {tarfile.GNUTYPE_LONGNAME: MAX_LONGNAME_BYTES}
_EXTENDED |= {tarfile.GNUTYPE_LONGLINK: MAX_LONGNAME_BYTES}


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


def _member_path(label: str, name: str, limits: StageLimits) -> PurePosixPath | None:
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
    if any(len(part.encode()) > NAME_MAX_BYTES for part in parts):
        longest = max(parts, key=len)
        raise UnsafeArchive(
            f"{label} holds a file or folder whose name is {len(longest.encode())} bytes long "
            f"({longest[:40]!r}...); names may be at most {NAME_MAX_BYTES} bytes. Give it a "
            "shorter name, then make the archive again."
        )
    if len(parts) > limits.max_depth + 1 or len(name.encode()) > limits.max_path_bytes:
        raise UnsafeArchive(
            f"{label} holds a path {len(parts)} folders deep and {len(name.encode())} bytes "
            f"long ({name[:60]!r}...); a submission may nest at most {limits.max_depth} "
            f"folders, in paths of at most {limits.max_path_bytes} bytes. Remove the deep "
            "folders, then make the archive again."
        )
    return PurePosixPath(*parts) if parts else None


def _clash(label: str, rel: PurePosixPath) -> UnsafeArchive:
    return UnsafeArchive(
        f"{label} holds both a file and a folder named {str(rel)[:120]!r} (or a file inside "
        "something that is a file), which no folder can hold. Rename one of them, then make "
        "the archive again."
    )


def _make_dir(target: Path, label: str, rel: PurePosixPath) -> None:
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError:  # a file is in the way (FileExistsError, NotADirectoryError)
        raise _clash(label, rel) from None


def _write(
    src: IO[bytes], target: Path, size: int, label: str, rel: PurePosixPath, limits: StageLimits
) -> None:
    """Write one member; a folder or a file in the way is the archive's clash, not a crash."""
    _make_dir(target.parent, label, rel)
    try:
        _copy_capped(src, target, size, label, limits)
    except (IsADirectoryError, NotADirectoryError, FileExistsError):
        raise _clash(label, rel) from None


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


def zip_entry_count(archive: Path) -> int | None:
    """The entry count a zip's end-of-central-directory record declares (zip64 too), read
    before :mod:`zipfile` builds an object for every entry; None when there is no such record
    (zipfile then says the archive is damaged)."""
    with archive.open("rb") as fh:
        fh.seek(0, io.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - (22 + 0xFFFF)))  # the record, then a comment of up to 64 KiB
        tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return None
    count = int.from_bytes(tail[at + 10 : at + 12], "little")
    locator = tail[at - 20 : at] if at >= 20 else b""
    if count == 0xFFFF and locator.startswith(b"PK\x06\x07"):
        with archive.open("rb") as fh:  # the zip64 record, where the real count is
            fh.seek(int.from_bytes(locator[8:16], "little"))
            record = fh.read(56)
        if record.startswith(b"PK\x06\x06") and len(record) == 56:
            count = int.from_bytes(record[32:40], "little")
    return count


def _extract_zip(archive: Path, dest: Path, limits: StageLimits, label: str) -> None:
    # zipfile reads the whole central directory into objects before anything can be checked:
    # a small zip declaring millions of entries would cost gigabytes, so its count is read
    # first (folders have entries too, hence the allowance over the file limit).
    try:
        if archive.stat().st_size > limits.max_bytes:
            raise _too_big(label, limits, f"is {archive.stat().st_size // (1024 * 1024)} MiB")
        count = zip_entry_count(archive)
        if count is not None and count > 4 * limits.max_files:
            raise _too_big(label, limits, f"holds {count} entries")
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
            rels = [_member_path(label, info.filename, limits) for info in infos]  # all, first
            for info, rel in zip(infos, rels, strict=True):
                if rel is None:
                    continue
                if (info.external_attr >> 16) & 0o170000 == 0o120000:
                    raise _not_ordinary(label, rel)
                target = dest / rel
                if info.is_dir():
                    _make_dir(target, label, rel)
                    continue
                if info.file_size > limits.max_file_bytes:
                    raise _too_big(label, limits, f"holds {rel}, {info.file_size // 1024} KiB")
                with zf.open(info) as src:
                    _write(src, target, info.file_size, label, rel, limits)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        RuntimeError,  # an encrypted member
        NotImplementedError,  # a compression method zipfile lacks
        OSError,  # unreadable, or a write failing for a reason no rule above names
        zlib.error,
    ):
        raise _corrupt(label, "zip") from None


def _tar_members(tf: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    """Members one at a time: a member's header is checked before its data is read."""
    while (member := tf.next()) is not None:
        yield member


class _Stream(Protocol):
    """What the header scan reads from: any binary stream (a file, or a decompressor)."""

    def read(self, size: int = -1, /) -> bytes: ...


def _checksums(header: bytes) -> tuple[int, int]:
    """A header's checksum as tar computes it, unsigned and signed (old tars used signed
    bytes): the sum of its bytes with the checksum field itself counted as spaces."""
    rest = header[:148] + b" " * 8 + header[156:]
    return sum(rest), sum(b - 256 if b > 127 else b for b in rest)


def _decompressed(raw: IO[bytes]) -> _Stream:
    """``raw`` decompressed as tarfile's ``r:*`` would (gzip, bzip2, xz, or none), as a stream."""
    magic = raw.read(6)
    raw.seek(0)
    if magic.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if magic.startswith(b"BZh"):
        return bz2.BZ2File(raw, mode="rb")
    if magic.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(raw, mode="rb")
    return raw


def _read(stream: _Stream, size: int) -> bytes:
    data = b""
    while len(data) < size and (chunk := stream.read(min(size - len(data), 1024 * 1024))):
        data += chunk
    return data


def _skip(stream: _Stream, size: int) -> None:
    while size > 0 and (chunk := stream.read(min(size, 1024 * 1024))):
        size -= len(chunk)


def _octal(field: bytes) -> int | None:
    """A tar header's number (octal, or GNU base-256); None when it is neither."""
    if field[:1] in (b"\x80", b"\xff"):
        value = int.from_bytes(field[1:], "big")
        return -value if field[:1] == b"\xff" else value
    text = field.split(b"\0", 1)[0].strip()
    try:
        return int(text, 8) if text else 0
    except ValueError:
        return None


def _refused_header(label: str, what: str) -> UnsafeArchive:
    return UnsafeArchive(
        f"{label} has {what}, which the grader does not unpack (such headers can make a tar "
        "reader hang or run out of memory, and a project never needs them). Make the archive "
        "again with `tar -czf submission.tar.gz -C myproject .`, or zip the folder instead."
    )


def _pax_records(label: str, data: bytes) -> dict[bytes, bytes]:
    """A pax header's records, parsed strictly and in linear time; UnsafeArchive if malformed."""
    records: dict[bytes, bytes] = {}
    data = data.rstrip(b"\0")
    if _DIGIT_RUN.search(data):
        raise _refused_header(
            label, f"an extended (pax) header with a run of over {MAX_DIGIT_RUN} digits"
        )
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos, pos + 21)
        length = int(data[pos:space]) if space > pos and data[pos:space].isdigit() else 0
        record = data[pos : pos + length]
        if length <= space - pos + 1 or len(record) != length or not record.endswith(b"\n"):
            raise _refused_header(label, "a malformed extended (pax) header")
        keyword, equals, value = record[space - pos + 1 : -1].partition(b"=")
        if not equals or not keyword:
            raise _refused_header(label, "a malformed extended (pax) header")
        records[keyword] = value
        pos += length
    return records


def scan_tar_headers(stream: _Stream, limits: StageLimits, label: str) -> None:
    """Walk a tar stream's headers without :mod:`tarfile`; refuse what it must never parse.

    Follows tarfile's own reading of the layout (which entries carry data, and pax ``size``
    overrides) so that every header tarfile will parse is seen here first. Stops, and leaves
    the verdict to tarfile, at the end marker or at a header it cannot make sense of (tarfile
    then reports a damaged archive). Reads at most the archive's size limit plus room for its
    headers, so a decompression bomb is refused without being decompressed in full.
    """
    budget = limits.max_bytes + (4 * limits.max_files + 64) * _BLOCK * 4
    entries = 0
    consumed = 0
    size_override: int | None = None  # a pax header's size for the next member
    while True:
        header = _read(stream, _BLOCK)
        consumed += len(header)
        if len(header) < _BLOCK or header.count(0) == _BLOCK:
            return
        kind = header[156:157]
        size = _octal(header[124:136])
        if size is None or size < 0 or _octal(header[148:156]) not in _checksums(header):
            return  # not a header tarfile accepts either: it says the archive is damaged
        entries += 1
        if entries > 4 * limits.max_files + 64:
            raise _too_big(label, limits, f"holds more than {4 * limits.max_files} entries")
        if kind in _EXTENDED:
            if size > _EXTENDED[kind]:
                raise _refused_header(
                    label, f"an extended header of {size} bytes (at most {_EXTENDED[kind]})"
                )
            data = _read(stream, -(-size // _BLOCK) * _BLOCK)
            consumed += len(data)
            if kind == tarfile.XHDTYPE or kind == tarfile.XGLTYPE:
                records = _pax_records(label, data[:size])
                if any(key.startswith(b"GNU.sparse") for key in records):
                    raise _refused_header(label, "a sparse file")
                if b"size" in records:
                    if kind == tarfile.XGLTYPE:  # would resize every later member
                        raise _refused_header(label, "a global extended header that sets sizes")
                    size_override = _pax_size(label, records[b"size"])
            continue
        if size_override is not None:
            size, size_override = size_override, None
        name = header[:100].split(b"\0", 1)[0]
        if kind in _DATA_TYPES and not (kind == tarfile.AREGTYPE and name.endswith(b"/")):
            consumed += -(-size // _BLOCK) * _BLOCK
            if consumed > budget:
                mib = limits.max_bytes // (1024 * 1024)
                raise _too_big(label, limits, f"unpacks to more than {mib} MiB")
            _skip(stream, -(-size // _BLOCK) * _BLOCK)
        elif kind not in _NO_DATA_TYPES:
            shown = kind.decode("latin-1")
            raise _refused_header(label, f"an entry of tar type {shown!r} (not a file or folder)")


def _pax_size(label: str, value: bytes) -> int:
    """A pax ``size`` record's value. tarfile reads a malformed one as 0 and would then parse
    the member's data as headers this scan never saw, so it is refused here instead."""
    if not value.isdigit():
        raise _refused_header(label, "a malformed extended (pax) header")
    return int(value)


def _extract_tar(source: Path | bytes, dest: Path, limits: StageLimits, label: str) -> None:
    files = 0
    total = 0
    try:
        with source.open("rb") if isinstance(source, Path) else io.BytesIO(source) as raw:
            scan_tar_headers(_decompressed(raw), limits, label)
        with (
            tarfile.open(source, "r:*")
            if isinstance(source, Path)
            else tarfile.open(fileobj=io.BytesIO(source), mode="r:*")
        ) as tf:
            for member in _tar_members(tf):
                rel = _member_path(label, member.name, limits)
                if rel is None:
                    continue
                target = dest / rel
                if member.isdir():
                    _make_dir(target, label, rel)
                    continue
                if not member.isreg():
                    raise _not_ordinary(label, rel)
                try:  # Python's own rules on top of ours (PEP 706), in case they ever differ
                    tarfile.data_filter(member, str(dest))
                except tarfile.FilterError:
                    raise _member_refused(label, member.name) from None
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
                with extracted:
                    _write(extracted, target, member.size, label, rel, limits)
    except (tarfile.TarError, EOFError, OSError, ValueError, lzma.LZMAError, zlib.error):
        raise _corrupt(label, "tar") from None


def _member_refused(label: str, name: str) -> UnsafeArchive:
    return UnsafeArchive(
        f"{label} holds {name[:120]!r}, which Python's tar rules refuse to unpack (an unsafe "
        "path or file mode). Make the archive again from inside your project folder, holding "
        "only ordinary files and folders."
    )
