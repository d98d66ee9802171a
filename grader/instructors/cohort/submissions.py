"""Find, unpack and identify each learner's submission.

A submissions folder holds one entry per learner, named by the roster's ``learner_id``:

- ``alice/``: a folder. If it is a git working tree (``alice/.git``), the committed ``HEAD`` is
  graded, not uncommitted edits: what was pushed is what was submitted.
- ``alice.git/``: a bare git repository; its ``HEAD`` is graded.
- ``alice.zip``, ``alice.tar.gz``, ``alice.tgz``, ``alice.tar``: an archive, unpacked safely
  (:func:`grader.staging.archives.extract`, the extractor single gradings use too).

Archives and git commits are unpacked once into a cache folder named by their content (archive
bytes' SHA-256, or the commit id), so a re-run reuses them and two runs never disturb each other.
Inside what was submitted, :func:`grader.staging.locate_project` finds the Django project to
grade. The submission's digest is :func:`grader.staging.digest_tree` of that project: the same
digest the grader puts in the result, computed before grading so finished work is recognised
and skipped.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader.errors import SubmissionError, UsageError
from grader.staging import StageLimits, digest_tree, locate_project
from grader.staging.archives import ARCHIVE_SUFFIXES, UnsafeArchive, extract

GIT_TIMEOUT = 60


class GitUnreadable(Exception):
    """A learner's git repository that git itself cannot read; ``str`` is git's complaint."""


@dataclass(frozen=True)
class Submission:
    """One learner's entry in the submissions folder. ``kind``: folder, git, zip or tar."""

    learner_id: str
    kind: str
    path: Path


@dataclass(frozen=True)
class Prepared:
    """A submission ready to grade: the project folder and its digest, or why it cannot be.

    ``source`` describes what was graded (``folder``, ``zip sha256:…``, ``git <commit>``).
    ``problem`` is a learner-facing sentence when the submission could not be unpacked; then
    ``digest`` identifies the raw submission so the same broken upload is not retried.
    """

    learner_id: str
    source: str
    project: Path
    digest: str
    problem: str | None = None


def learner_id_of(entry: Path) -> tuple[str, str] | None:
    """``(learner_id, kind)`` for a submissions-folder entry, or None if it is not one."""
    name = entry.name
    if name.startswith("."):
        return None
    if entry.is_dir():
        if name.endswith(".git") and (entry / "HEAD").is_file() and (entry / "objects").is_dir():
            return name[: -len(".git")], "git"
        return name, "git" if (entry / ".git").exists() else "folder"
    for suffix in ARCHIVE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], "zip" if suffix == ".zip" else "tar"
    return None


def discover(folder: Path) -> dict[str, Submission]:
    """Every learner's submission in ``folder`` by learner id.

    UsageError if the folder is missing or one learner has two entries (``bob/`` and
    ``bob.zip``): which one counts is the instructor's call, not the grader's.
    """
    if not folder.is_dir():
        raise UsageError(f"The submissions folder {folder} does not exist.")
    found: dict[str, Submission] = {}
    for entry in sorted(folder.iterdir()):
        if entry.is_symlink():
            continue  # could point anywhere; a submission is a real file or folder
        identified = learner_id_of(entry)
        if identified is None:
            continue
        learner_id, kind = identified
        if learner_id in found:
            raise UsageError(
                f"{learner_id} has two submissions ({found[learner_id].path.name} and "
                f"{entry.name}) in {folder}; keep the one to grade."
            )
        found[learner_id] = Submission(learner_id, kind, entry)
    return found


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _git(repo: Path, *args: str) -> bytes:
    """Run git on a learner's repository with their hooks and filters switched off."""
    env = {
        **os.environ,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
    }
    command = [
        "git",
        "-c", f"safe.directory={repo}",
        "-c", "core.hooksPath=" + os.devnull,
        "-c", "core.fsmonitor=false",
        "-C", str(repo),
        *args,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, env=env, timeout=GIT_TIMEOUT, check=False)
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitUnreadable(f"git could not read the repository: {message[-1] if message else ''}")
    return done.stdout


@dataclass(frozen=True)
class _Unpacked:
    root: Path
    source: str


def _unpack_once(key: str, cache: Path, fill: Callable[[Path], None]) -> Path:
    """The cache folder for ``key``, filled by ``fill(tmp)`` the first time, atomically."""
    final = cache / key
    if final.is_dir():
        return final
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cache / f".tmp-{key}-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        fill(tmp)
        os.rename(tmp, final)
    except OSError:
        if not final.is_dir():  # a real failure, not a concurrent run that got there first
            raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def unpack(submission: Submission, cache: Path, limits: StageLimits | None = None) -> _Unpacked:
    """What the learner submitted, as a folder (the folder itself for plain folders)."""
    if submission.kind == "folder":
        return _Unpacked(submission.path, "folder")
    if submission.kind == "git":
        commit = _git(submission.path, "rev-parse", "--verify", "HEAD^{commit}").decode().strip()

        def fill_git(tmp: Path) -> None:
            data = _git(submission.path, "archive", "--format=tar", commit)
            extract(data, tmp, limits=limits, name=f"commit {commit[:12]}", kind="tar")

        return _Unpacked(_unpack_once(f"git-{commit}", cache, fill_git), f"git {commit}")
    digest = _file_digest(submission.path)
    kind = submission.kind

    def fill_archive(tmp: Path) -> None:
        extract(submission.path, tmp, limits=limits, kind=kind)

    folder = _unpack_once(f"{kind}-{digest}", cache, fill_archive)
    return _Unpacked(folder, f"{kind} sha256:{digest}")


def prepare(
    submission: Submission, lab: str, cache: Path, limits: StageLimits | None = None
) -> Prepared:
    """Unpack, locate and digest ``submission``; a refused archive becomes ``problem``."""
    try:
        unpacked = unpack(submission, cache, limits)
    except (UnsafeArchive, GitUnreadable, subprocess.TimeoutExpired) as exc:
        raw = (
            _file_digest(submission.path)
            if submission.path.is_file()
            else hashlib.sha256(str(exc).encode()).hexdigest()
        )
        return Prepared(
            submission.learner_id,
            f"{submission.kind} (refused)",
            submission.path,
            f"sha256:{raw}",
            # The extractor's sentences already say what to change; git's need the advice.
            str(exc)
            if isinstance(exc, UnsafeArchive)
            else f"Your submission {submission.path.name} could not be unpacked: {exc}. "
            "Submit the project folder again as a plain .zip of your project.",
        )
    project = locate_project(unpacked.root, lab)
    try:
        digest = digest_tree(project, limits)
    except SubmissionError as exc:  # nested too deeply to walk: staging would refuse it too
        raw = hashlib.sha256(str(exc).encode()).hexdigest()
        return Prepared(submission.learner_id, unpacked.source, project, f"sha256:{raw}", str(exc))
    return Prepared(submission.learner_id, unpacked.source, project, digest)
