"""What a quality-gate criterion says in a rubric file, read and validated.

A quality gate is a rubric criterion decided by a tool run on the submission (ruff, the
learner's own tests under coverage.py) rather than by hidden checks (ARCHITECTURE decision 2).
This module is part of the engine: the rubric loader calls it. The gates themselves run in
:mod:`grader.executors.gates`.

A gate criterion has the usual ``id``, ``title``, ``points``, ``outcome``, ``feedback`` and
optional ``see``, no ``checks`` (the gate is its own check), and its kind's keys::

    [[criteria]]
    id = "own-tests"
    kind = "learner-tests"
    tests = "tests/yours"          # folder of the learner's tests, relative to the project
    cover = ["blog", "api"]        # packages whose coverage counts, relative to the project
    min_coverage = 80              # percent of their statements, 1..100
    ...

    [[criteria]]
    id = "lint"
    kind = "ruff"
    config = "../learner-ruff.toml"  # the course's ruff settings, relative to the rubric file
    ...

Every problem raises :class:`~grader.errors.RubricError` naming the rubric file and criterion.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from grader.errors import RubricError

# One name in a path inside the learner's project; no leading dot, so never "." or "..".
_PATH_PART = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")
_OMIT = re.compile(r"^[A-Za-z0-9_*][A-Za-z0-9_.*/-]{0,100}$")


@dataclass(frozen=True)
class LearnerTestsGate:
    """The learner's own tests pass and cover ``min_coverage`` percent of ``cover``."""

    tests: str
    cover: tuple[str, ...]
    min_coverage: int
    branch: bool = False  # measure branches too (coverage.py's branch = true), as the capstone asks
    omit: tuple[str, ...] = ()  # project-relative glob patterns left out of the measure


@dataclass(frozen=True)
class RuffGate:
    """``ruff check`` is clean with the course's settings file ``config``, a path relative to
    the rubric file (:func:`grader.executors.gates.ruff_config` resolves and checks it)."""

    config: str


Gate = LearnerTestsGate | RuffGate

GATE_KEYS: dict[str, frozenset[str]] = {
    "learner-tests": frozenset({"tests", "cover", "min_coverage"}),
    "ruff": frozenset({"config"}),
}
GATE_KINDS = tuple(GATE_KEYS)
# Keys a gate may have but need not (they have defaults).
GATE_OPTIONAL: dict[str, frozenset[str]] = {"learner-tests": frozenset({"branch", "omit"})}


def gate_check_id(kind: str, criterion_id: str) -> str:
    """The id a gate's one outcome is reported under (it names no pytest node)."""
    return f"{kind}:{criterion_id}"


def _project_path(value: Any, key: str, where: str) -> str:
    parts = value.split("/") if isinstance(value, str) else []
    if not parts or not all(_PATH_PART.match(part) for part in parts):
        raise RubricError(
            f"{where}: {key} must be a path inside the project, like 'tests/yours' (no '..')"
        )
    return "/".join(parts)


def parse_gate(kind: str, entry: Mapping[str, Any], where: str) -> Gate:
    """The gate that ``entry`` (a ``[[criteria]]`` table of kind ``kind``) describes."""
    if "checks" in entry:
        raise RubricError(f"{where}: a {kind!r} criterion is decided by its gate: drop 'checks'")
    missing = sorted(GATE_KEYS[kind] - set(entry))
    if missing:
        raise RubricError(f"{where}: a {kind!r} criterion needs {', '.join(missing)}")
    if kind == "ruff":
        config = entry["config"]
        if not isinstance(config, str) or not config.endswith(".toml"):
            raise RubricError(f"{where}: config must name a ruff settings file (.toml)")
        return RuffGate(config=config)
    cover = entry["cover"]
    if not isinstance(cover, list) or not cover:
        raise RubricError(f"{where}: cover must be a non-empty list of packages, like ['blog']")
    minimum = entry["min_coverage"]
    if type(minimum) is not int or not 1 <= minimum <= 100:
        raise RubricError(f"{where}: min_coverage must be a whole percentage from 1 to 100")
    branch = entry.get("branch", False)
    if not isinstance(branch, bool):
        raise RubricError(f"{where}: branch must be true or false")
    omit = entry.get("omit", [])
    if not isinstance(omit, list) or not all(
        isinstance(p, str) and _OMIT.match(p) and ".." not in p for p in omit
    ):
        raise RubricError(
            f"{where}: omit must be a list of project-relative patterns, like ['tests/*']"
        )
    return LearnerTestsGate(
        tests=_project_path(entry["tests"], "tests", where),
        # "." is the whole project: a capstone's packages are the learner's to name.
        cover=tuple(
            "." if package == "." else _project_path(package, "cover", where) for package in cover
        ),
        min_coverage=minimum,
        branch=branch,
        omit=tuple(omit),
    )
