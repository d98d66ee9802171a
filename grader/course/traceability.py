"""Assessment tables that span rubrics: every lab's marking guide, the capstone's, and the
outcome-by-criterion traceability matrix.

``grader.course.docs_sync`` renders these as generated blocks (kinds ``marking-guides``,
``capstone-rubric`` and ``traceability``); this module holds the data and the table layout, and
takes the page-specific helpers (links, cell escaping) from its caller so that it never imports
``grader.course.docs_sync``.

The capstone is judged partly by people (the demo, the dashboard), so its rubric is not a lab
rubric: it lives in ``templates/copier/capstone/rubric.toml`` with, per criterion, ``decided_by``
(``checks``, ``quality`` or ``review``) and ``evidence`` (what is looked at) instead of pytest
node ids. When a lab-style ``labs/capstone/rubric.toml`` appears, the two would disagree about
what the capstone is, so rendering stops with a message naming both files.

Contracts: output is deterministic (labs in teaching order, then the capstone); every criterion
of every rubric appears exactly once in the matrix; an unreadable or invalid rubric raises
:class:`~grader.errors.RubricError` naming the file and the entry.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.errors import RubricError
from grader.labs import known_labs
from grader.rubric import _ID, OUTCOMES, load_rubric

CAPSTONE_RUBRIC = "templates/copier/capstone/rubric.toml"
CAPSTONE_PAGE = "assessments.md#capstone-rubric"
# How a criterion is decided, as the tables say it.
DECIDED_BY = {
    "checks": "hidden checks",
    "quality": "quality gate",
    "review": "instructor review",
}
# A lab criterion's kind (grader.rubric) in the same vocabulary (nbgrader: hidden tests; manual:
# an instructor in the gradebook); any other kind is a quality gate.
_KIND_DECIDED_BY = {"pytest": "checks", "nbgrader": "checks", "manual": "review"}
MARK = "●"

Link = Callable[[str], str]
Cell = Callable[[str], str]


@dataclass(frozen=True)
class CapstoneCriterion:
    """One capstone criterion: what it is worth, the outcome it serves, and how it is judged."""

    id: str
    title: str
    points: int
    outcome: int
    decided_by: str
    evidence: str


@dataclass(frozen=True)
class CapstoneRubric:
    title: str
    version: str
    criteria: tuple[CapstoneCriterion, ...]
    path: Path

    @property
    def max_points(self) -> int:
        return sum(c.points for c in self.criteria)


@dataclass(frozen=True)
class TracedCriterion:
    """A criterion of any assessment, reduced to what the traceability matrix shows."""

    assessment: str  # lab id ("lab01") or "capstone"
    id: str
    title: str
    points: int
    outcome: int
    decided_by: str  # a key of DECIDED_BY


def _field(entry: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = entry.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) != (kind is bool):
        raise RubricError(f"{where}: {key!r} must be {kind.__name__}, got {value!r}")
    return value


def _capstone_criterion(entry: Any, where: str) -> CapstoneCriterion:
    if not isinstance(entry, dict):
        raise RubricError(f"{where}: each [[criteria]] entry must be a table")
    cid = _field(entry, "id", str, where)
    where = f"{where} (criterion {cid!r})"
    if not _ID.match(cid):
        raise RubricError(f"{where}: id must be kebab-case (a-z, 0-9, '-')")
    unknown = set(entry) - {"id", "title", "points", "outcome", "decided_by", "evidence"}
    if unknown:
        raise RubricError(f"{where}: unknown keys {sorted(unknown)}")
    points = _field(entry, "points", int, where)
    if points <= 0:
        raise RubricError(f"{where}: points must be positive")
    outcome = _field(entry, "outcome", int, where)
    if outcome not in OUTCOMES:
        raise RubricError(f"{where}: outcome must be 1..6, got {outcome}")
    decided_by = _field(entry, "decided_by", str, where)
    if decided_by not in DECIDED_BY:
        raise RubricError(f"{where}: decided_by must be one of {', '.join(DECIDED_BY)}")
    return CapstoneCriterion(
        id=cid,
        title=_field(entry, "title", str, where),
        points=points,
        outcome=outcome,
        decided_by=decided_by,
        evidence=_field(entry, "evidence", str, where).strip(),
    )


def load_capstone_rubric(path: Path) -> CapstoneRubric:
    """Read and validate the capstone rubric at ``path``; raise RubricError naming the problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RubricError(f"capstone rubric {path} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RubricError(f"{path}: not valid TOML: {exc}") from None
    where = str(path)
    entries = data.get("criteria")
    if not isinstance(entries, list) or not entries:
        raise RubricError(f"{where}: needs at least one [[criteria]] entry")
    criteria = tuple(_capstone_criterion(entry, where) for entry in entries)
    ids = [c.id for c in criteria]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RubricError(f"{where}: duplicate criterion ids {duplicates}")
    return CapstoneRubric(
        title=_field(data, "title", str, where),
        version=_field(data, "version", str, where),
        criteria=criteria,
        path=path,
    )


def capstone_rubric(root: Path) -> CapstoneRubric | None:
    """The capstone's rubric, or None when the course has none yet."""
    path = root / CAPSTONE_RUBRIC
    if not path.is_file():
        return None
    if "capstone" in known_labs(root):
        raise RubricError(
            f"two capstone rubrics: labs/capstone/rubric.toml and {CAPSTONE_RUBRIC}; "
            "keep one of them"
        )
    return load_capstone_rubric(path)


def traced_criteria(root: Path) -> list[TracedCriterion]:
    """Every criterion of every assessment: labs in teaching order, then the capstone."""
    traced: list[TracedCriterion] = []
    for lab in known_labs(root):
        rubric = load_rubric(root / "labs" / lab / "rubric.toml")
        traced += [
            TracedCriterion(
                assessment=lab,
                id=c.id,
                title=c.title,
                points=c.points,
                outcome=c.outcome,
                decided_by=_KIND_DECIDED_BY.get(c.kind, "quality"),
            )
            for c in rubric.criteria
        ]
    capstone = capstone_rubric(root)
    if capstone is not None:
        traced += [
            TracedCriterion("capstone", c.id, c.title, c.points, c.outcome, c.decided_by)
            for c in capstone.criteria
        ]
    return traced


# ---------------------------------------------------------------------------------------------
# Markdown


def lab_heading(lab: str) -> str:
    """``lab01`` → ``Lab 01``; ``capstone`` → ``Capstone``."""
    return f"Lab {lab.removeprefix('lab')}" if lab.startswith("lab") else lab.capitalize()


def _assessment_link(root: Path, assessment: str, link: Link) -> str:
    if assessment == "capstone" and "capstone" not in known_labs(root):
        return f"[capstone]({link(CAPSTONE_PAGE)})"
    handout = f"labs/{assessment}/README.md"
    return f"[{assessment}]({link(handout)})" if (root / handout).is_file() else assessment


def marking_guides(root: Path, *, table: Callable[[str], list[str]], link: Link) -> list[str]:
    """One ``### Lab NN marking guide`` section per lab with a rubric, each with its table.

    ``table(lab)`` renders one lab's rubric table (the ``rubric-table`` block's rows).
    """
    rows: list[str] = []
    for lab in known_labs(root):
        rubric = load_rubric(root / "labs" / lab / "rubric.toml")
        handout = f"labs/{lab}/README.md"
        name = f"{lab_heading(lab)}: {rubric.title}"
        if (root / handout).is_file():
            name = f"[{name}]({link(handout)})"
        rows += [
            f"### {lab_heading(lab)} marking guide",
            "",
            f"{name} · {rubric.max_points} points · rubric version {rubric.version} "
            f"(`labs/{lab}/rubric.toml`)",
            "",
            *table(lab),
            "",
        ]
    return rows[:-1] if rows else ["*No lab has a rubric yet.*"]


def capstone_table(root: Path, *, cell: Cell, outcome_label: Callable[[int], str]) -> list[str]:
    """The capstone's marking guide: one row per criterion and a total row."""
    capstone = capstone_rubric(root)
    if capstone is None:
        raise ValueError(f"capstone-rubric: {CAPSTONE_RUBRIC} does not exist")
    rows = [
        "| Criterion | Points | Outcome | Decided by | What is checked |",
        "|---|--:|---|---|---|",
    ]
    for c in capstone.criteria:
        rows.append(
            f"| {cell(c.title)} | {c.points} | {outcome_label(c.outcome)} "
            f"| {DECIDED_BY[c.decided_by]} | {cell(c.evidence)} |"
        )
    rows.append(f"| **Total** | **{capstone.max_points}** | | | |")
    return rows


def traceability_matrix(
    root: Path, *, link: Link, cell: Cell, outcome_label: Callable[[int], str]
) -> list[str]:
    """Two tables: how much each outcome is assessed, then every criterion against outcomes."""
    traced = traced_criteria(root)
    rows = [
        "| Outcome | Assessed in | Criteria | Points |",
        "|---|---|--:|--:|",
    ]
    for outcome in OUTCOMES:
        serving = [t for t in traced if t.outcome == outcome]
        places: dict[str, int] = {}
        for t in serving:
            places[t.assessment] = places.get(t.assessment, 0) + 1
        where = ", ".join(
            f"{_assessment_link(root, name, link)} ({count})" for name, count in places.items()
        )
        rows.append(
            f"| {outcome_label(outcome)} | {where or '*not assessed yet*'} | {len(serving)} "
            f"| {sum(t.points for t in serving)} |"
        )
    rows.append(f"| **Total** | | **{len(traced)}** | **{sum(t.points for t in traced)}** |")
    header = " | ".join(str(n) for n in OUTCOMES)
    rows += [
        "",
        f"| Assessment | Criterion | Points | {header} | Decided by |",
        "|---|---|--:|" + ":-:|" * len(OUTCOMES) + "---|",
    ]
    for t in traced:
        marks = " | ".join(MARK if t.outcome == n else "" for n in OUTCOMES)
        rows.append(
            f"| {_assessment_link(root, t.assessment, link)} | {cell(t.title)} `{t.id}` "
            f"| {t.points} | {marks} | {DECIDED_BY[t.decided_by]} |"
        )
    return rows
