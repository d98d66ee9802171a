"""Assessment tables that span rubrics: every lab's marking guide, the capstone's, and the
outcome-by-criterion traceability matrix.

``grader.course.docs_sync`` renders these as generated blocks (kinds ``marking-guides``,
``capstone-rubric`` and ``traceability``); this module holds the data and the table layout, and
takes the page-specific helpers (links, cell escaping) from its caller so that it never imports
``grader.course.docs_sync``.

The capstone's rubric is a lab rubric (``labs/capstone/rubric.toml``) whose people-decided
criteria say ``kind = "manual"``; its marking guide has a column saying who decides each
criterion (hidden checks, a quality gate, or an instructor's review) and shows the feedback as
what is checked. It is left out of the labs' marking guides, but counted in the matrix.

Contracts: output is deterministic (labs in teaching order, then the capstone); every criterion
of every rubric appears exactly once in the matrix; an unreadable or invalid rubric raises
:class:`~grader.errors.RubricError` naming the file and the entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader.labs import known_labs
from grader.rubric import OUTCOMES, Rubric, load_rubric

CAPSTONE_RUBRIC = "labs/capstone/rubric.toml"
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
class TracedCriterion:
    """A criterion of any assessment, reduced to what the traceability matrix shows."""

    assessment: str  # lab id ("lab01") or "capstone"
    id: str
    title: str
    points: int
    outcome: int
    decided_by: str  # a key of DECIDED_BY


def capstone_rubric(root: Path) -> Rubric | None:
    """The capstone's rubric (``labs/capstone/rubric.toml``), or None when the course has none."""
    path = root / CAPSTONE_RUBRIC
    return load_rubric(path) if path.is_file() else None


def decided_by(kind: str) -> str:
    """A criterion's kind (grader.rubric) as a key of DECIDED_BY: every gate is a quality gate."""
    return _KIND_DECIDED_BY.get(kind, "quality")


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
                decided_by=decided_by(c.kind),
            )
            for c in rubric.criteria
        ]
    return traced


# ---------------------------------------------------------------------------------------------
# Markdown


def lab_heading(lab: str) -> str:
    """``lab01`` → ``Lab 01``; ``capstone`` → ``Capstone``."""
    return f"Lab {lab.removeprefix('lab')}" if lab.startswith("lab") else lab.capitalize()


def _assessment_link(root: Path, assessment: str, link: Link) -> str:
    handout = f"labs/{assessment}/README.md"
    return f"[{assessment}]({link(handout)})" if (root / handout).is_file() else assessment


def marking_guides(root: Path, *, table: Callable[[str], list[str]], link: Link) -> list[str]:
    """One ``### Lab NN marking guide`` section per lab with a rubric, each with its table.

    ``table(lab)`` renders one lab's rubric table (the ``rubric-table`` block's rows).
    """
    rows: list[str] = []
    for lab in known_labs(root):
        if lab == "capstone":  # its own section (capstone-rubric), with who decides each row
            continue
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
            f"| {DECIDED_BY[decided_by(c.kind)]} | {cell(c.feedback)} |"
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
