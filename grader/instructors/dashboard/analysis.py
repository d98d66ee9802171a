"""The dashboard's figures, computed from a
:class:`~grader.instructors.dashboard.data.CohortData` snapshot.

Pure functions over plain data: no database, no files, no clock (the caller passes ``now``), so
every rule here is tested directly with hand-made histories.

Definitions (the facilitator guide repeats them in plain words):

- **Attempt**: one distinct submission (digest) of a learner in a lab. A regrade of the same
  submission after a rubric fix is the same attempt; its newest result counts.
- **Progress**: an attempt that scores more points than every earlier attempt in that lab, at
  the time it was first graded. A learner's *last progress* is the latest such moment in any lab,
  or when they joined the roster if they have none.
- **Stuck** (:func:`find_stuck`), for either reason:

  1. *no progress*: not every lab is at full marks, and the last progress is at least
     ``StuckRules.after`` old;
  2. *repeated failure*: in one lab, the same criterion failed in each of the last
     ``StuckRules.repeated`` attempts (an attempt that could not be graded met no criterion, so
     it keeps such a streak going); when none of those attempts could be graded at all, that is
     said instead.

  Times are when results were *recorded* (the cohort was graded), not when work was pushed:
  grade at least as often as ``after``, or everyone looks stuck.
- **Pass rate** of a criterion: among learners whose current grade in the lab was graded (not
  ``error``/``timeout``, not missing), the share whose result passed it.
- **Revisit** (:meth:`CriterionRate.revisit`): a criterion worth class time is one that stands
  out, not merely one that is low. It is met by fewer than ``below`` (60%) of graded learners,
  *and* its pass rate is at least ``STANDS_OUT`` (20 points) below the median pass rate of the
  lab's criteria (relative to this cohort: early in a lab, when everything is low, nothing
  stands out, and at most half a lab's criteria can ever be marked), *and* its history does
  not show the cohort fixing it: of the learners whose earlier attempt failed it, fewer than
  half pass it now (none such: no evidence either way).
- **Outcome progress**: of the points that the criteria serving a learning outcome are worth,
  summed over the labs shown and every learner counted (those without a graded submission
  earn 0), the share earned. Criteria that could not be graded where the cohort was graded
  (``not_run``, e.g. PostgreSQL-only criteria graded on SQLite) count neither way. Instructor
  overrides change a lab's points, not its criteria, so they do not change outcome figures.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from grader.instructors.dashboard.data import CohortData, ResultRow
from grader.instructors.gradebook import GradeView, LearnerInfo

REVISIT_BELOW = 0.6  # a criterion met by fewer than 60% of graded learners may be worth class time
STANDS_OUT = 0.2  # ... if it is this far below the lab's median criterion (see module doc)
FIXING = 0.5  # ... and fewer than this share of those who failed it earlier pass it now
_DURATION = re.compile(r"(\d+)\s*([wdhm])")
_UNITS = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1)}
_OUTCOME_LINE = re.compile(r"^(\d)\.\s+\*\*(.+?)\.?\*\*")


@dataclass(frozen=True)
class StuckRules:
    """When a learner counts as stuck: no progress for ``after``, or one criterion failing in
    ``repeated`` consecutive attempts (0 turns that rule off)."""

    after: timedelta = timedelta(days=2)
    repeated: int = 3


def parse_duration(text: str) -> timedelta:
    """``2d``, ``36h``, ``90m``, ``1w``, ``1d12h``: a duration; ValueError for anything else."""
    compact = text.strip().lower()
    parts = _DURATION.findall(compact)
    if not compact or _DURATION.sub("", compact).strip():
        raise ValueError(f"{text!r} is not a duration like 2d, 36h, 90m or 1w")
    total = timedelta()
    for amount, unit in parts:
        total += int(amount) * _UNITS.get(unit, timedelta(minutes=1))
    return total


def describe_duration(span: timedelta) -> str:
    """A duration as a person says it: ``3 days``, ``5 hours``, ``40 minutes``."""
    seconds = max(0, int(span.total_seconds()))
    for size, unit in ((86_400, "day"), (3_600, "hour"), (60, "minute")):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return "under a minute"


# -- learners by labs -----------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One learner's current standing in one lab. ``status``: a result status (``graded``,
    ``error``, ``timeout``) or ``missing`` (nothing graded yet)."""

    lab: str
    status: str
    points: int | None = None
    max_points: int | None = None
    overridden: bool = False

    @property
    def fraction(self) -> float | None:
        """Points over maximum for a graded (or overridden) cell; None when there is no score."""
        if self.points is None or not self.max_points:
            return None
        if self.status != "graded" and not self.overridden:
            return None
        return self.points / self.max_points

    @property
    def label(self) -> str:
        """Short text for a table cell or a heatmap square (``*``: an instructor override)."""
        if self.fraction is not None:
            return f"{self.points}{'*' if self.overridden else ''}"
        return {"missing": "—", "timeout": "time"}.get(self.status, self.status)


@dataclass(frozen=True)
class LearnerRow:
    learner: LearnerInfo
    cells: tuple[Cell, ...]


def cell_of(grade: GradeView | None, lab: str) -> Cell:
    if grade is None:
        return Cell(lab, "missing")
    return Cell(
        lab,
        grade.status,
        grade.points,
        grade.max_points,
        overridden=grade.override_points is not None,
    )


def learner_matrix(data: CohortData) -> list[LearnerRow]:
    """Every roster learner (in the snapshot's order) with one cell per lab."""
    return [
        LearnerRow(
            learner,
            tuple(cell_of(data.grades[lab].get(learner.id), lab) for lab in data.labs),
        )
        for learner in data.learners
    ]


# -- labs and criteria ----------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionInfo:
    """A criterion as the lab's reference result describes it. ``gradable`` is False when it
    was not run where the cohort was graded (``not_run`` in a graded result)."""

    id: str
    title: str
    outcome: int
    max_points: int
    gradable: bool


@dataclass(frozen=True)
class LabInfo:
    lab: str
    title: str
    max_points: int
    criteria: tuple[CriterionInfo, ...]


def lab_info(data: CohortData, lab: str) -> LabInfo | None:
    """The lab's title and criteria, from its newest graded current result (None: no result).

    The newest one, because after a rubric change that is the rubric the cohort is being
    regraded against.
    """
    grades = list(data.grades[lab].values())
    if not grades:
        return None
    graded = [g for g in grades if g.status == "graded"]
    reference = max(graded or grades, key=lambda g: (g.graded_at, g.result_id)).document
    is_graded = reference["status"] == "graded"
    criteria = tuple(
        CriterionInfo(
            c["id"],
            c["title"],
            int(c["outcome"]),
            int(c["max_points"]),
            gradable=not is_graded or c["status"] != "not_run",
        )
        for c in reference["criteria"]
    )
    return LabInfo(lab, reference["lab"]["title"], int(reference["score"]["max_points"]), criteria)


@dataclass(frozen=True)
class LabSummary:
    """How far the roster is in one lab, as counts. ``mean_points`` covers graded learners and
    counts overrides (None when nobody was graded)."""

    lab: str
    title: str
    max_points: int
    roster: int
    graded: int
    not_graded: int
    missing: int
    full_marks: int
    mean_points: float | None


def lab_summary(data: CohortData, lab: str) -> LabSummary | None:
    info = lab_info(data, lab)
    if info is None:
        return None
    roster_ids = {learner.id for learner in data.learners}
    grades = [g for learner_id, g in data.grades[lab].items() if learner_id in roster_ids]
    graded = [g for g in grades if g.status == "graded"]
    return LabSummary(
        lab=lab,
        title=info.title,
        max_points=info.max_points,
        roster=len(roster_ids),
        graded=len(graded),
        not_graded=len(grades) - len(graded),
        missing=len(roster_ids) - len(grades),
        full_marks=sum(g.points == g.max_points for g in graded),
        mean_points=sum(g.points for g in graded) / len(graded) if graded else None,
    )


@dataclass(frozen=True)
class CriterionRate:
    """How the cohort did on one criterion (see module doc: pass rate)."""

    lab: str
    id: str
    title: str
    outcome: int
    max_points: int
    graded: int
    passed: int
    failing: tuple[str, ...] = ()  # learner ids whose current graded result fails it
    lab_median: float | None = None  # median pass rate of the lab's criteria
    failed_before: int = 0  # learners whose earlier attempt failed it ...
    fixed_since: int = 0  # ... of whom this many pass it now

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.graded if self.graded else None

    def revisit(self, below: float = REVISIT_BELOW) -> bool:
        """Worth revisiting in class (module doc): low, lower than the lab's other criteria,
        and not being fixed by the learners who resubmitted."""
        rate = self.pass_rate
        if rate is None or rate >= below:
            return False
        if self.lab_median is not None and rate > self.lab_median - STANDS_OUT:
            return False  # low, but so is everything else: it singles nothing out
        return not (self.failed_before and self.fixed_since / self.failed_before >= FIXING)


def criterion_rates(data: CohortData, lab: str) -> list[CriterionRate]:
    """One entry per gradable criterion of ``lab``, in rubric order."""
    info = lab_info(data, lab)
    if info is None:
        return []
    graded = [g for g in data.grades[lab].values() if g.status == "graded"]
    # By id, not by position: a result graded against an older rubric may list other criteria.
    statuses = {
        g.learner.id: {c["id"]: c["status"] for c in g.document["criteria"]} for g in graded
    }
    earlier = _failed_earlier(data, lab)
    rates = []
    for c in info.criteria:
        if not c.gradable:
            continue
        decided = {i: s[c.id] for i, s in statuses.items() if s.get(c.id) in ("passed", "failed")}
        before = [i for i in earlier.get(c.id, ()) if i in decided]
        rates.append(
            CriterionRate(
                lab,
                c.id,
                c.title,
                c.outcome,
                c.max_points,
                graded=len(decided),
                passed=list(decided.values()).count("passed"),
                failing=tuple(sorted(i for i, status in decided.items() if status == "failed")),
                failed_before=len(before),
                fixed_since=sum(decided[i] == "passed" for i in before),
            )
        )
    known = [r.pass_rate for r in rates if r.pass_rate is not None]
    middle = statistics.median(known) if known else None
    return [replace(r, lab_median=middle) for r in rates]


def _failed_earlier(data: CohortData, lab: str) -> dict[str, set[str]]:
    """Criterion id → learners an attempt of whom, before their current result, failed it."""
    current = {i: g.result_id for i, g in data.grades[lab].items()}
    found: dict[str, set[str]] = {}
    for row in data.history:
        if row.lab == lab and row.result_id != current.get(row.learner_id):
            for criterion in row.failed:
                found.setdefault(criterion, set()).add(row.learner_id)
    return found


# -- stuck learners -------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """One distinct submission: when it was first graded, and its newest result."""

    first_at: datetime
    result: ResultRow


def attempts(history: Iterable[ResultRow]) -> dict[tuple[str, str], list[Attempt]]:
    """``(learner_id, lab)`` → attempts, oldest first (``history`` must be oldest first)."""
    found: dict[tuple[str, str], dict[str, Attempt]] = {}
    for row in history:
        per_digest = found.setdefault((row.learner_id, row.lab), {})
        earlier = per_digest.get(row.submission_digest)
        first_at = earlier.first_at if earlier else row.graded_at
        # Re-inserting keeps the attempt at its first position (dicts keep insertion order).
        per_digest[row.submission_digest] = Attempt(first_at, row)
    return {key: list(value.values()) for key, value in found.items()}


def progress_times(tries: Sequence[Attempt]) -> list[datetime]:
    """When each attempt that beat every earlier one (and scored above 0) was first graded."""
    best = 0
    moments = []
    for attempt in tries:
        if attempt.result.status == "graded" and attempt.result.points > best:
            best = attempt.result.points
            moments.append(attempt.first_at)
    return moments


@dataclass(frozen=True)
class StuckReason:
    """Why a learner looks stuck. ``kind``: ``no-progress``, ``repeated-failure`` (with the
    ``criteria`` ids) or ``cannot-be-graded``; ``lab`` is None for ``no-progress``."""

    kind: str
    lab: str | None
    criteria: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class StuckLearner:
    learner: LearnerInfo
    last_progress: datetime | None
    reasons: tuple[StuckReason, ...]


def _repeated(
    lab: str,
    tries: Sequence[Attempt],
    rules: StuckRules,
    order: Sequence[str],
    titles: dict[str, str] | None = None,
) -> StuckReason | None:
    if rules.repeated < 1 or len(tries) < rules.repeated:
        return None
    recent = [a.result for a in tries[-rules.repeated :]]
    graded = [r for r in recent if r.status == "graded"]
    if not graded:
        return StuckReason(
            "cannot-be-graded",
            lab,
            (),
            f"{lab}: the last {len(recent)} submissions could not be graded",
        )
    common = set(graded[0].failed).intersection(*(r.failed for r in graded[1:]))
    if not common:
        return None
    # Rubric order, as the lab page lists them; ids an older rubric had come last.
    rank = {criterion: index for index, criterion in enumerate(order)}
    ordered = tuple(sorted(common, key=lambda c: (rank.get(c, len(rank)), c)))
    named = ", ".join(f"“{(titles or {}).get(c, c)}”" for c in ordered)  # titles, as pages say
    return StuckReason(
        "repeated-failure",
        lab,
        ordered,
        f"{lab}: {named} failed in each of the last {len(recent)} attempts",
    )


def find_stuck(data: CohortData, rules: StuckRules, now: datetime) -> list[StuckLearner]:
    """Learners who look stuck (see module doc), longest without progress first."""
    by_pair = attempts(data.history)
    infos = {lab: lab_info(data, lab) for lab in data.labs}
    orders = {lab: [c.id for c in info.criteria] if info else [] for lab, info in infos.items()}
    titles = {
        lab: {c.id: c.title for c in info.criteria} if info else {} for lab, info in infos.items()
    }
    found = []
    for learner in data.learners:
        moments = [
            moment
            for lab in data.labs
            for moment in progress_times(by_pair.get((learner.id, lab), []))
        ]
        last = max(moments, default=data.enrolled_at.get(learner.id))
        finished = bool(data.labs) and all(
            (g := data.grades[lab].get(learner.id)) is not None and g.points >= g.max_points
            for lab in data.labs
        )
        reasons = []
        if not finished and last is not None and now - last >= rules.after:
            reasons.append(
                StuckReason(
                    "no-progress",
                    None,
                    (),
                    f"no progress for {describe_duration(now - last)}"
                    + ("" if moments else " (nothing scored yet)"),
                )
            )
        for lab in data.labs:
            tries = by_pair.get((learner.id, lab), [])
            reason = _repeated(lab, tries, rules, orders[lab], titles[lab])
            if reason is not None:
                reasons.append(reason)
        if reasons:
            found.append(StuckLearner(learner, last, tuple(reasons)))
    oldest = datetime.max.replace(tzinfo=now.tzinfo)
    return sorted(found, key=lambda s: (s.last_progress or oldest, s.learner.name.casefold()))


# -- learning outcomes ----------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeProgress:
    """Points earned of points possible on the criteria serving one learning outcome."""

    outcome: int
    title: str
    earned: int
    possible: int

    @property
    def progress(self) -> float | None:
        return self.earned / self.possible if self.possible else None


def outcome_titles(course_root: Path | None) -> dict[int, str]:
    """The six outcomes' short titles, read from the site's home page (``docs/index.md``,
    the list under *What you will be able to do*: ``1. **Lay the foundations.** ...``).

    Falls back to ``Outcome N`` for any the page does not give, so a course without the page
    still gets a dashboard.
    """
    titles = {n: f"Outcome {n}" for n in range(1, 7)}
    page = course_root / "docs" / "index.md" if course_root else None
    if page is not None and page.is_file():
        for line in page.read_text(encoding="utf-8").splitlines():
            match = _OUTCOME_LINE.match(line.strip())
            if match and int(match.group(1)) in titles:
                titles[int(match.group(1))] = match.group(2).strip()
    return titles


def outcome_progress(
    data: CohortData,
    labs: Sequence[str],
    titles: dict[int, str],
    learner_ids: Iterable[str] | None = None,
) -> list[OutcomeProgress]:
    """Outcome progress over ``labs`` and ``learner_ids`` (default: the whole roster), one entry
    per outcome that those labs serve, by outcome number (see module doc)."""
    ids = list(learner_ids) if learner_ids is not None else [x.id for x in data.learners]
    earned: dict[int, int] = {}
    possible: dict[int, int] = {}
    for lab in labs:
        info = lab_info(data, lab)
        if info is None:
            continue
        for learner_id in ids:
            grade = data.grades[lab].get(learner_id)
            points: dict[str, int] = {}
            if grade is not None and grade.status == "graded":
                points = {c["id"]: int(c["points"]) for c in grade.document["criteria"]}
            for c in info.criteria:
                if not c.gradable:
                    continue
                possible[c.outcome] = possible.get(c.outcome, 0) + c.max_points
                got = min(points.get(c.id, 0), c.max_points)
                earned[c.outcome] = earned.get(c.outcome, 0) + got
    return [
        OutcomeProgress(n, titles.get(n, f"Outcome {n}"), earned[n], possible[n])
        for n in sorted(possible)
    ]
