"""Stage a submission: copy it into the grader's own temporary folder, within limits.

The learner's folder is only ever read. Everything the checks do happens in the copy, so a
submission that writes files, creates a database or leaves ``__pycache__`` behind changes nothing
the learner owns. The copy also fixes what is graded: edits made while grading runs are not seen.

Refused (a :class:`~grader.errors.SubmissionError` with a message saying what to do): a folder
that does not exist, one with no Python files, more than ``max_files`` files, more than
``max_bytes`` in total, or a single file over ``max_file_bytes``. Skipped silently: version
control and tool caches, virtual environments, compiled files, and symlinks (a link could point
anywhere on the machine; nothing in a lab needs one).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import AnyStr

from grader.errors import SubmissionError, UsageError

SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        ".venv",
        "venv",
        "env",
        ".nox",
        ".tox",
        "node_modules",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        "htmlcov",
        ".grader",
    }
)
SKIP_SUFFIXES = (".pyc", ".pyo", ".sqlite3", ".pth")


@dataclass(frozen=True)
class StageLimits:
    """Upper bounds on what a submission may hold."""

    max_files: int = 2_000
    max_bytes: int = 50 * 1024 * 1024
    max_file_bytes: int = 10 * 1024 * 1024
    # A Django project nests a handful of folders; the bounds keep every walk, copy and clean-up
    # far from Python's recursion limit (3.11's os.walk, rglob and rmtree recurse per level) and
    # from the kernel's 4096-byte path limit once the grader's own folders are put in front.
    max_depth: int = 32
    max_path_bytes: int = 1024


@dataclass(frozen=True)
class StagedSubmission:
    """A staged copy. ``digest`` hashes every staged path and its content, so it identifies
    the graded work exactly (same files, same digest, whatever the timestamps)."""

    source: Path
    path: Path
    digest: str
    file_count: int
    total_bytes: int


def too_deep(rel: str, limits: StageLimits) -> SubmissionError:
    """The refusal of a folder nested deeper, or a path longer, than ``limits`` allow."""
    return SubmissionError(
        f"The submission nests folders too deeply ({rel[:80]}...): at most "
        f"{limits.max_depth} folders deep and {limits.max_path_bytes} bytes per path are "
        "graded, and a Django project needs far fewer. Remove the deep folders, then grade "
        "again.",
        stage="stage",
    )


def walk_tree(
    top: AnyStr, limits: StageLimits | None = None
) -> Iterator[tuple[AnyStr, list[AnyStr], list[AnyStr]]]:
    """:func:`os.walk` (top-down, links never followed) without recursion, within ``limits``.

    Yields ``(dirpath, dirnames, filenames)`` like ``os.walk``, and the caller may prune
    ``dirnames`` in place the same way. Entries are classified as ``os.walk`` does (a link to a
    folder is listed in ``dirnames`` but never entered), so staging digests stay as they were.
    Raises :func:`too_deep`'s SubmissionError on reaching a folder deeper than
    ``limits.max_depth`` or a path longer than ``limits.max_path_bytes``, where os.walk would
    raise RecursionError (Python 3.11 recurses once per level). Unreadable folders are skipped,
    as ``os.walk`` skips them.
    """
    limits = limits or StageLimits()
    stack: list[tuple[AnyStr, int]] = [(top, 0)]
    while stack:
        path, depth = stack.pop()
        dirnames: list[AnyStr] = []
        filenames: list[AnyStr] = []
        try:
            with os.scandir(path) as entries:
                for entry in entries:
                    try:
                        is_dir = entry.is_dir()
                    except OSError:
                        is_dir = False
                    (dirnames if is_dir else filenames).append(entry.name)
        except OSError:
            continue
        yield path, dirnames, filenames
        for name in reversed(dirnames):  # popped in the caller's order
            child = os.path.join(path, name)
            if os.path.islink(child):
                continue
            rel = os.fsdecode(os.path.relpath(child, top))
            if depth + 1 > limits.max_depth or len(os.fsencode(rel)) > limits.max_path_bytes:
                raise too_deep(rel, limits)
            stack.append((child, depth + 1))


def _walk(source: Path, limits: StageLimits | None = None) -> list[Path]:
    """Relative paths of the files to stage, sorted so the digest is stable."""
    files: list[Path] = []
    for dirpath, dirnames, filenames in walk_tree(str(source), limits):
        dirnames[:] = sorted(
            d for d in dirnames if d not in SKIP_DIRS and not d.endswith(".egg-info")
        )
        for name in sorted(filenames):
            if name.endswith(SKIP_SUFFIXES):
                continue
            full = Path(dirpath) / name
            mode = full.lstat().st_mode
            if stat.S_ISREG(mode):  # symlinks, sockets and devices are not staged
                files.append(full.relative_to(source))
    return files


def stage_submission(
    source: Path, dest: Path, limits: StageLimits | None = None
) -> StagedSubmission:
    """Copy ``source`` into the empty or absent folder ``dest`` and return what was staged."""
    limits = limits or StageLimits()
    if not source.exists():
        raise UsageError(f"The submission folder {source} does not exist. Check the path you gave.")
    if not source.is_dir():
        raise UsageError(
            f"{source} is a file; give the folder that holds your project (manage.py)."
        )
    relpaths = _walk(source, limits)
    if len(relpaths) > limits.max_files:
        raise SubmissionError(
            f"The submission has {len(relpaths)} files; the limit is {limits.max_files}. "
            "Remove virtual environments, databases and build output from the folder.",
            stage="stage",
        )
    if not any(p.suffix == ".py" for p in relpaths):
        raise SubmissionError(
            f"{source} holds no Python files. Grade the folder with your project in it "
            f"(the one with manage.py), or restore it with `git checkout -- {source}`.",
            stage="stage",
        )
    dest.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    total = 0
    for rel in relpaths:
        src = source / rel
        size = src.stat().st_size
        if size > limits.max_file_bytes:
            raise SubmissionError(
                f"{rel} is {size // 1024} KiB; files over {limits.max_file_bytes // 1024} KiB "
                "are not graded. Remove it or add it to .gitignore.",
                stage="stage",
            )
        total += size
        if total > limits.max_bytes:
            raise SubmissionError(
                f"The submission is larger than {limits.max_bytes // (1024 * 1024)} MiB. "
                "Remove data files, databases and virtual environments from it.",
                stage="stage",
            )
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
        digest.update(rel.as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(target.read_bytes()).digest())
    return StagedSubmission(
        source=source,
        path=dest,
        digest="sha256:" + digest.hexdigest(),
        file_count=len(relpaths),
        total_bytes=total,
    )


def digest_tree(source: Path, limits: StageLimits | None = None) -> str:
    """The digest :func:`stage_submission` gives ``source``, computed without copying it.

    Batch grading uses it to tell, before grading, whether a submission is one it has already
    graded. Files over ``limits.max_file_bytes`` (which staging refuses) are hashed by path and
    size only, so a huge file cannot make this slow; such a submission grades as an error anyway.
    """
    limits = limits or StageLimits()
    digest = hashlib.sha256()
    for rel in _walk(source, limits):
        size = (source / rel).stat().st_size
        digest.update(rel.as_posix().encode() + b"\0")
        if size > limits.max_file_bytes:
            digest.update(f"size:{size}".encode())
            continue
        digest.update(hashlib.sha256((source / rel).read_bytes()).digest())
    return "sha256:" + digest.hexdigest()


def check_syntax(staged: StagedSubmission) -> None:
    """Compile every staged ``.py`` file without running it; report the first syntax error.

    Compiling is safe (no submission code runs) and gives a precise file:line message before
    any check starts, instead of a wall of collection errors. Every way compiling can fail is a
    SubmissionError naming the file: a syntax error, null bytes, and code nested too deeply for
    the compiler (RecursionError, MemoryError), which Python itself could never import either.
    """
    for path in sorted(staged.path.rglob("*.py")):
        rel = path.relative_to(staged.path)
        try:
            source = path.read_bytes()
            compile(source, str(rel), "exec", dont_inherit=True)
        except SyntaxError as exc:
            where = f"{rel}, line {exc.lineno}" if exc.lineno else str(rel)
            detail = (exc.text or "").strip()
            shown = f": `{detail[:80]}`" if detail else ""
            raise SubmissionError(
                f"Syntax error in {where}: {exc.msg}{shown}. Fix it, then grade again "
                f"(`python -m py_compile {rel}` shows the same error).",
                stage="syntax",
            ) from None
        except ValueError as exc:  # e.g. source containing null bytes
            raise SubmissionError(
                f"{rel} cannot be read as Python: {exc}.", stage="syntax"
            ) from None
        except (RecursionError, MemoryError, OverflowError):
            raise SubmissionError(
                f"{rel} nests expressions or blocks too deeply for Python to compile it (the "
                "compiler ran out of stack or memory), so it could never be imported. Split the "
                "deep expression into smaller steps, then grade again.",
                stage="syntax",
            ) from None
