"""The hostile-input corpus (issue 14, classes 3, 5 and 6), shared by the local and official tests.

Every case is a submission built from a fresh copy of a lab's reference solution, graded through
the command line exactly as a person would (``python -m grader grade LAB --submission PATH``),
in a child process with its own empty ``TMPDIR`` and its own debug-log folder, and, for the
cases that must be refused before anything runs, under a 1 GiB address-space limit and a time
limit: a grader that hangs, balloons or crashes on the input fails the case.

Cases come in classes, several variants each (different depths, names, header kinds, escape
sequences), because the variant that gets tried next is never the one that was fixed:

- archives that clash, nest, or name things longer than a file system allows;
- tar headers that attack Python's tar parser (CVE-2024-6232's pax ReDoS, GNU long-name bombs);
- folders nested deeper than Python's recursion limit;
- source nested too deeply to compile;
- text in feedback that is terminal control or rich markup, or that names host paths.

:func:`leaks` is the one scan every case's output goes through: host paths (the checkout, the
Python installation, the run's temporary folder), hidden-check source lines and tracebacks.
"""

from __future__ import annotations

import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tarfile
import textwrap
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.course.release.scan import distinctive
from tests.support import ROOT

ADDRESS_SPACE = 1024**3  # the grader refusing an archive needs a fraction of this
REFUSAL_SECONDS = 60.0


@dataclass(frozen=True)
class Case:
    """One hostile submission: ``build(solution_copy, tmp)`` returns the path to grade."""

    id: str
    build: Callable[[Path, Path], Path]
    phrases: tuple[str, ...]  # each must be in the learner-facing output
    exit_code: int = 3
    stage: str | None = "stage"
    lab: str = "lab01"
    limited: bool = True  # refused before any check: run under ADDRESS_SPACE, quickly
    absent: tuple[str, ...] = ()  # each must NOT be in the output


@dataclass
class Output:
    """What one grading printed and wrote, and what it left behind."""

    case: Case
    returncode: int
    stdout: str
    stderr: str
    result: dict[str, Any] | None
    seconds: float
    tmp_left: list[str]
    debug_files: list[Path] = field(default_factory=list)

    @property
    def text(self) -> str:
        """Everything a learner sees: the terminal output and the result document."""
        return self.stdout + self.stderr + (json.dumps(self.result) if self.result else "")


def _limit() -> None:  # child, between fork and exec
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run_case(case: Case, base: Path, tmp: Path, *extra: str) -> Output:
    """Build ``case`` from a copy of ``base`` under ``tmp`` and grade it through the CLI."""
    tree = tmp / "submission"
    shutil.copytree(base, tree)
    submission = case.build(tree, tmp)
    tmpdir, debug, out = tmp / "tmpdir", tmp / "debug", tmp / "result.json"
    tmpdir.mkdir()
    env = {
        **os.environ,
        "TMPDIR": str(tmpdir),
        "GRADER_DEBUG_DIR": str(debug),
        "COLUMNS": "200",
    }
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            "grade",
            case.lab,
            "--submission",
            str(submission),
            "--output",
            str(out),
            *extra,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=REFUSAL_SECONDS if case.limited else 900,
        preexec_fn=_limit if case.limited else None,
        check=False,
    )
    seconds = time.monotonic() - started
    result = json.loads(out.read_text()) if out.is_file() else None
    return Output(
        case,
        done.returncode,
        done.stdout,
        done.stderr,
        result,
        seconds,
        sorted(p.name for p in tmpdir.iterdir()),
        sorted(debug.glob("*.log")) if debug.is_dir() else [],
    )


# --- the scan -------------------------------------------------------------------------------------


def hidden_lines() -> set[str]:
    """Every distinctive line of every lab's hidden checks (what the release scan looks for)."""
    found = set()
    for path in sorted((ROOT / "labs").glob("*/hidden/*.py")):
        found |= {line for raw in path.read_text().splitlines() if (line := distinctive(raw))}
    return found


def host_paths(output: Output, tmp: Path) -> list[str]:
    """The folders no learner-facing text may name, for a case graded under ``tmp``."""
    found = {str(ROOT), sys.prefix, sys.base_prefix, str(Path(sys.executable).parent)}
    found |= {str(tmp / "tmpdir"), "/tmp/grader-", str(tmp / "debug")}
    return sorted(p for p in found if len(p) > 4)


def leaks(output: Output, tmp: Path, secrets: set[str] | None = None) -> list[str]:
    """What ``output`` shows that it must not: host paths, hidden-check lines, tracebacks,
    terminal control. Empty for a clean output. The submission's own path (given on the
    command line, and recorded as such in the result's metadata) is not a leak."""
    text = output.stdout + output.stderr
    if output.result is not None:
        shown = dict(output.result)
        shown["submission"] = {**shown["submission"], "path": "(given)"}
        text += json.dumps(shown, ensure_ascii=False)
    problems = [f"host path {p}" for p in host_paths(output, tmp) if p in text]
    problems += [f"hidden line {line[:60]!r}" for line in secrets or hidden_lines() if line in text]
    problems += ["a traceback"] if "Traceback (most recent call last)" in text else []
    problems += ["internal error"] if "internal error" in text else []
    problems += [
        f"control character {hex(ord(c))}"
        for c in sorted(set(text))
        if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0
    ]
    return problems


# --- builders: archives ---------------------------------------------------------------------------


def zip_of(tree: Path, target: Path, extra: list[tuple[str, bytes]], prefix: str = "") -> Path:
    """``tree`` zipped (under ``prefix``), then the ``extra`` members, in order."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(tree.rglob("*")):
            if path.is_file():
                zf.write(path, prefix + path.relative_to(tree).as_posix())
        for name, data in extra:
            if name.endswith("/"):
                zf.writestr(zipfile.ZipInfo(name), b"")
            else:
                zf.writestr(name, data)
    return target


def tar_of(
    tree: Path,
    target: Path,
    extra: list[tuple[str, bytes]],
    fmt: int = tarfile.PAX_FORMAT,
    mode: str = "w:gz",
) -> Path:
    """``tree`` tarred as ``project/``, then the ``extra`` regular files, in ``fmt``."""
    with tarfile.open(target, mode, format=fmt) as tf:
        tf.add(tree, arcname="project")
        for name, data in extra:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return target


def zip_case(name: str, extra: list[tuple[str, bytes]]) -> Callable[[Path, Path], Path]:
    return lambda tree, tmp: zip_of(tree, tmp / name, extra)


def tar_case(
    name: str, extra: list[tuple[str, bytes]], fmt: int = tarfile.PAX_FORMAT
) -> Callable[[Path, Path], Path]:
    mode = "w:gz" if name.endswith(("gz", "tgz")) else "w"
    return lambda tree, tmp: tar_of(tree, tmp / name, extra, fmt, mode)


# Raw tar headers, for what tarfile's writer will not produce.


def raw_header(name: bytes, kind: bytes, size: int, size_field: bytes | None = None) -> bytes:
    """One 512-byte ustar header with a correct checksum."""
    block = bytearray(512)
    block[0 : len(name)] = name[:100]
    block[100:108] = b"0000644\0"
    block[108:116] = b"0000000\0"
    block[116:124] = b"0000000\0"
    block[124:136] = size_field or (b"%011o\0" % size)
    block[136:148] = b"00000000000\0"
    block[156:157] = kind
    block[257:263] = b"ustar\0"
    block[263:265] = b"00"
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\0 " % sum(block)
    return bytes(block)


def pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 512)


def pax_record(keyword: bytes, value: bytes) -> bytes:
    """A well-formed pax record: its length counts its own digits."""
    body = b" " + keyword + b"=" + value + b"\n"
    length = len(body) + 1
    while len(str(length)) + len(body) != length:
        length += 1
    return str(length).encode() + body


def _solution_tar(tree: Path) -> bytes:
    """``tree`` as tar members without the end marker (read before close() writes it), so
    blocks appended after it are parsed as the archive's next headers."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        tf.add(tree, arcname="project")
        members = buffer.getvalue()
    assert len(members) % 512 == 0
    return members


def hostile_tar(
    name: str, prelude: Callable[[], bytes], compress: str = "gz"
) -> Callable[[Path, Path], Path]:
    """The solution as a tar, then ``prelude()``'s raw blocks, then a file and the end marker;
    written plain, gzip-, bzip2- or xz-compressed (tarfile's ``r:*`` reads them all)."""

    def build(tree: Path, tmp: Path) -> Path:
        data = _solution_tar(tree) + prelude()
        body = b"x = 1\n"
        data += raw_header(b"project/extra.py", b"0", len(body)) + pad(body) + b"\0" * 1024
        target = tmp / name
        if compress == "gz":
            import gzip

            target.write_bytes(gzip.compress(data, compresslevel=6))
        elif compress == "bz2":
            import bz2

            target.write_bytes(bz2.compress(data))
        elif compress == "xz":
            import lzma

            target.write_bytes(lzma.compress(data))
        else:
            target.write_bytes(data)
        return target

    return build


# --- builders: folders and source -----------------------------------------------------------------


def deep_folder(levels: int, part: str = "d", under: str = "") -> Callable[[Path, Path], Path]:
    """The solution with ``levels`` nested folders named ``part`` (inside ``under``), a Python
    file at the bottom. Built with relative mkdirs: the full path passes the kernel's limit."""

    def build(tree: Path, tmp: Path) -> Path:
        start = tree / under if under else tree
        start.mkdir(parents=True, exist_ok=True)
        fd = os.open(start, os.O_RDONLY)
        try:
            for _ in range(levels):
                os.mkdir(part, dir_fd=fd)
                child = os.open(part, os.O_RDONLY, dir_fd=fd)
                os.close(fd)
                fd = child
            with open(os.open("bottom.py", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as f:
                f.write("x = 1\n")
        finally:
            os.close(fd)
        return tree

    return build


def source_file(rel: str, text: str) -> Callable[[Path, Path], Path]:
    def build(tree: Path, tmp: Path) -> Path:
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_text(text)
        return tree

    return build


def appended(rel: str, code: str) -> Callable[[Path, Path], Path]:
    def build(tree: Path, tmp: Path) -> Path:
        path = tree / rel
        path.write_text(path.read_text() + "\n" + textwrap.dedent(code))
        return tree

    return build


def remove_tree(path: Path) -> None:
    """Delete a tree that may be deeper than Python's recursion limit (``rm -rf`` does not recurse
    on the C stack per level the way 3.11's shutil.rmtree does)."""
    subprocess.run(["rm", "-rf", "--", str(path)], check=False, timeout=120)
