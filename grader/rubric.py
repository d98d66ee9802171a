"""Rubric files: the data a lab is scored against (ARCHITECTURE decision 2).

A rubric lives at ``labs/<lab>/rubric.toml``. It is public (criteria titles, points and feedback
stay visible in the learners' edition); the checks it names live in ``labs/<lab>/hidden/``, which
only the grader reads. Format::

    lab = "lab01"
    title = "Project architecture"
    version = "1.0.0"                      # bump when criteria or checks change (regrades)
    settings_module = "config.settings.test"
    timeout_seconds = 120                  # wall clock for the whole check run
    migrations = false                     # build the test database from migrations?

    [[criteria]]
    id = "health-endpoint"                 # stable, kebab-case
    title = "Health endpoint reports a healthy service"
    points = 20
    outcome = 4                            # learning outcome 1..6 it serves
    checks = ["test_health.py::test_health_ok"]   # pytest node ids inside hidden/
    feedback = "GET /api/health/ must answer 200 with ..."   # shown when it fails
    see = "README.md#step-5"               # optional: where in the handout to look
    after = ["settings-split"]             # optional: criteria this one builds on

``public = ["test_health.py", "test_settings.py::test_local_app_is_installed"]`` names the lab's
public tests (a file, or a test in it, with all its parameters) that approach the criterion: the
learners' edition, which has no hidden checks, shows per criterion how those pass
(:mod:`grader.executors.selfcheck`). It decides nothing.

``after`` names the criteria whose work this one builds on, as the handout's steps do (lab07's
pages exist only in version 2, so ``pagination`` is after ``versioning``). It changes no score:
it orders the learner's next steps and lets renderers show a failure that waits on another
failing criterion as one cause (:mod:`grader.nextsteps`). The ids must exist, and ``after``
may not loop back to the criterion itself.

A criterion passes only when every one of its checks passes (no partial credit inside a
criterion: split it into two criteria instead, so the feedback stays specific).

The capstone says ``manifest = "capstone.toml"``: the file, at the top of the submission, that
describes the learner's own service (:mod:`grader.manifest`). A submission whose manifest is
missing or wrong is refused before any check runs, with the manifest's sentences.

Notebook labs (:mod:`grader.executors.notebook`) name their notebook at the top, ``notebook =
"notebooks/lab03_orm_workbook.ipynb"`` (relative to the project), and every criterion says
``kind = "nbgrader"`` with ``checks = ["cell:<grade id>"]``: the nbgrader grade cells that decide
it. Any criterion may say ``requires = "postgresql"``: graded on SQLite, it is then reported as
not gradable here (status ``not_run``, with how to fix that), never as a pass or a fail.
``requires = "redis"`` (lab09 on): the grader starts a throwaway Redis for the checks
(:mod:`grader.redisserver`); where it can have none, the criterion is ``not_run`` likewise.

People-decided criteria: ``kind = "manual"`` names no checks and no gate; an instructor scores it
(0..points, with a reason) in the gradebook (``cohort review``). Until then it is reported
``awaiting_instructor`` with 0 points, never as a pass or a fail, and ``feedback`` tells the
learner what the instructor will look at (the demo, the code review). Only ``id``, ``title``,
``points``, ``outcome``, ``feedback``, ``see`` and ``kind`` are allowed on it.

Quality gates (:mod:`grader.executors.gates`): ``kind = "learner-tests"`` (the learner's own tests
pass and cover enough) and ``kind = "ruff"`` (ruff finds nothing) name no checks; their keys are in
:mod:`grader.gatespec`, and each is reported as one outcome under ``Criterion.checks``.

:func:`load_rubric` validates everything above and raises :class:`~grader.errors.RubricError`
with the file and the offending entry, so a course author never meets a KeyError.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.errors import RubricError
from grader.gatespec import GATE_KEYS, GATE_KINDS, GATE_OPTIONAL, Gate, gate_check_id, parse_gate

OUTCOMES = range(1, 7)
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CHECK_KINDS = ("pytest", "nbgrader")
MANUAL = "manual"  # decided by an instructor in the gradebook, never by a run
REQUIRES = ("postgresql", "redis")
_CELL_CHECK = re.compile(r"^cell:[A-Za-z0-9_-]+$")
_NOTEBOOK = re.compile(r"^[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*\.ipynb$")


@dataclass(frozen=True)
class Criterion:
    """One published criterion: what is checked, what it is worth, what to say when it fails."""

    id: str
    title: str
    points: int
    outcome: int
    checks: tuple[str, ...]
    feedback: str
    see: str | None = None
    kind: str = "pytest"
    requires: str | None = None  # "postgresql": not gradable on SQLite; "redis": without Redis
    gate: Gate | None = None  # quality-gate kinds only (grader.executors.gates)
    after: tuple[str, ...] = ()  # criteria this one builds on (ordering and feedback only)
    public: tuple[str, ...] = ()  # public tests that approach it (learners' edition self-check)


@dataclass(frozen=True)
class Rubric:
    """A lab's rubric, loaded and validated. ``digest`` identifies the exact rubric content."""

    lab: str
    title: str
    version: str
    settings_module: str
    timeout_seconds: int
    migrations: bool
    criteria: tuple[Criterion, ...]
    path: Path
    digest: str
    notebook: str | None = None  # notebook labs: the graded notebook, relative to the project
    manifest: str | None = None  # the capstone: the file the learner describes the service in

    @property
    def max_points(self) -> int:
        return sum(c.points for c in self.criteria)

    @property
    def automated_points(self) -> int:
        """Points a grading run decides: everything but the people-decided (manual) criteria."""
        return sum(c.points for c in self.criteria if c.kind != MANUAL)

    @property
    def hidden_dir(self) -> Path:
        """Folder of the hidden checks (absent in the learners' edition)."""
        return self.path.parent / "hidden"

    @property
    def needs_redis(self) -> bool:
        """Whether a criterion ``requires = "redis"``: the checks then get a Redis server."""
        return any(c.requires == "redis" for c in self.criteria)

    @property
    def check_ids(self) -> tuple[str, ...]:
        """Every pytest node id the rubric expects to see reported, in rubric order."""
        seen: dict[str, None] = {}
        for criterion in self.criteria:
            if criterion.gate is not None or criterion.kind == MANUAL:
                continue  # reported by executors.gates, or decided by a person: never a check
            for check in criterion.checks:
                seen.setdefault(check, None)
        return tuple(seen)


def _require(table: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in table:
        raise RubricError(f"{where}: missing required key {key!r}")
    value = table[key]
    # bool is an int subclass; a rubric saying `points = true` is a mistake, not 1 point.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise RubricError(f"{where}: {key!r} must be {kind.__name__}, got {value!r}")
    return value


def _criterion(entry: Any, where: str) -> Criterion:
    if not isinstance(entry, dict):
        raise RubricError(f"{where}: each [[criteria]] entry must be a table")
    cid = _require(entry, "id", str, where)
    where = f"{where} (criterion {cid!r})"
    if not _ID.match(cid):
        raise RubricError(f"{where}: id must be kebab-case (a-z, 0-9, '-')")
    points = _require(entry, "points", int, where)
    if points <= 0:
        raise RubricError(f"{where}: points must be positive")
    outcome = _require(entry, "outcome", int, where)
    if outcome not in OUTCOMES:
        raise RubricError(f"{where}: outcome must be 1..6, got {outcome}")
    if entry.get("kind") in GATE_KINDS:  # decided by a tool run, not by checks
        return _gate_criterion(entry, cid, points, outcome, where)
    if entry.get("kind") == MANUAL:  # decided by an instructor, not by any run
        return _manual_criterion(entry, cid, points, outcome, where)
    checks = _require(entry, "checks", list, where)
    kind = entry.get("kind", "pytest")
    if kind not in CHECK_KINDS:
        kinds = ", ".join((*CHECK_KINDS, *GATE_KINDS, MANUAL))
        raise RubricError(f"{where}: kind must be one of {kinds}")
    if kind == "nbgrader":
        if not checks or not all(isinstance(c, str) and _CELL_CHECK.match(c) for c in checks):
            raise RubricError(
                f"{where}: checks must be a non-empty list of 'cell:<grade id>' (nbgrader cells)"
            )
    elif not checks or not all(isinstance(c, str) and "::" in c for c in checks):
        raise RubricError(f"{where}: checks must be a non-empty list of 'file.py::test' ids")
    requires = entry.get("requires")
    if requires is not None and requires not in REQUIRES:
        raise RubricError(f"{where}: requires must be one of {', '.join(REQUIRES)}")
    see = entry.get("see")
    if see is not None and not isinstance(see, str):
        raise RubricError(f"{where}: see must be a string")
    known = {"id", "title", "points", "outcome", "checks", "feedback", "see", "kind", "requires"}
    known |= {"after", "public"}
    unknown = set(entry) - known
    if unknown:
        raise RubricError(f"{where}: unknown keys {sorted(unknown)}")
    return Criterion(
        id=cid,
        title=_require(entry, "title", str, where),
        points=points,
        outcome=outcome,
        checks=tuple(checks),
        feedback=_require(entry, "feedback", str, where).strip(),
        see=see,
        kind=kind,
        requires=requires,
        after=_after(entry, where),
        public=_public(entry, where),
    )


def _gate_criterion(
    entry: dict[str, Any], cid: str, points: int, outcome: int, where: str
) -> Criterion:
    """A quality-gate criterion: the common keys, plus its kind's (grader.gatespec)."""
    kind = entry["kind"]
    gate = parse_gate(kind, entry, where)
    see = entry.get("see")
    if see is not None and not isinstance(see, str):
        raise RubricError(f"{where}: see must be a string")
    common = {"id", "title", "points", "outcome", "feedback", "see", "kind", "after", "public"}
    unknown = set(entry) - common - GATE_KEYS[kind] - GATE_OPTIONAL.get(kind, frozenset())
    if unknown:
        raise RubricError(f"{where}: unknown keys {sorted(unknown)}")
    return Criterion(
        id=cid,
        title=_require(entry, "title", str, where),
        points=points,
        outcome=outcome,
        checks=(gate_check_id(kind, cid),),
        feedback=_require(entry, "feedback", str, where).strip(),
        see=see,
        kind=kind,
        gate=gate,
        after=_after(entry, where),
        public=_public(entry, where),
    )


def _after(entry: dict[str, Any], where: str) -> tuple[str, ...]:
    """The ``after`` list's shape; whether its ids exist is checked once all are read."""
    after = entry.get("after", [])
    if not isinstance(after, list) or not all(isinstance(a, str) for a in after):
        raise RubricError(f'{where}: after must be a list of criterion ids, like ["versioning"]')
    if len(set(after)) != len(after):
        raise RubricError(f"{where}: after names a criterion twice")
    return tuple(after)


_PUBLIC = re.compile(r"^[A-Za-z0-9_/-]+\.py(?:::[A-Za-z_][A-Za-z0-9_]*)?$")


def _public(entry: dict[str, Any], where: str) -> tuple[str, ...]:
    """The ``public`` list: ``file.py`` or ``file.py::test_name`` entries (module doc)."""
    public = entry.get("public", [])
    if not isinstance(public, list) or not all(
        isinstance(p, str) and _PUBLIC.match(p) for p in public
    ):
        raise RubricError(
            f'{where}: public must be a list like ["test_health.py", '
            f'"test_settings.py::test_local_app_is_installed"] (files in the lab\'s tests/)'
        )
    return tuple(public)


def _check_after(criteria: tuple[Criterion, ...], where: str) -> None:
    """Every ``after`` id names another criterion, and following them never comes back."""
    ids = {c.id for c in criteria}
    for c in criteria:
        unknown = sorted(set(c.after) - ids)
        if unknown:
            raise RubricError(f"{where} (criterion {c.id!r}): after names no criterion {unknown}")
    after = {c.id: c.after for c in criteria}
    for start in after:  # depth-first from each criterion; rubrics are small
        stack, seen = list(after[start]), set()
        while stack:
            current = stack.pop()
            if current == start:
                raise RubricError(
                    f"{where} (criterion {start!r}): after leads back to {start!r}; "
                    "a criterion cannot wait on itself"
                )
            if current not in seen:
                seen.add(current)
                stack.extend(after[current])


def _manual_criterion(
    entry: dict[str, Any], cid: str, points: int, outcome: int, where: str
) -> Criterion:
    """A people-decided criterion: the common keys only, and no checks (an instructor scores it)."""
    see = entry.get("see")
    if see is not None and not isinstance(see, str):
        raise RubricError(f"{where}: see must be a string")
    if "checks" in entry:
        raise RubricError(
            f"{where}: a kind = 'manual' criterion is scored by an instructor, so it names no "
            "checks; drop 'checks' or make it a pytest criterion"
        )
    common = {"id", "title", "points", "outcome", "feedback", "see", "kind", "after", "public"}
    unknown = set(entry) - common
    if unknown:
        raise RubricError(f"{where}: unknown keys {sorted(unknown)}")
    return Criterion(
        id=cid,
        title=_require(entry, "title", str, where),
        points=points,
        outcome=outcome,
        checks=(),
        feedback=_require(entry, "feedback", str, where).strip(),
        see=see,
        kind=MANUAL,
        after=_after(entry, where),
        public=_public(entry, where),
    )


def load_rubric(path: Path) -> Rubric:
    """Read and validate the rubric at ``path``; raise RubricError naming what is wrong."""
    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise RubricError(f"rubric file {path} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RubricError(f"{path}: not valid TOML: {exc}") from None
    where = str(path)
    entries = _require(data, "criteria", list, where)
    criteria = tuple(_criterion(e, where) for e in entries)
    ids = [c.id for c in criteria]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RubricError(f"{where}: duplicate criterion ids {duplicates}")
    if not criteria:
        raise RubricError(f"{where}: a rubric needs at least one criterion")
    _check_after(criteria, where)
    timeout = data.get("timeout_seconds", 120)
    if not isinstance(timeout, int) or isinstance(timeout, bool) or timeout <= 0:
        raise RubricError(f"{where}: timeout_seconds must be a positive integer")
    migrations = data.get("migrations", False)
    if not isinstance(migrations, bool):
        raise RubricError(f"{where}: migrations must be true or false")
    lab = _require(data, "lab", str, where)
    if lab != path.parent.name:
        raise RubricError(f"{where}: lab = {lab!r} but the file is in {path.parent.name}/")
    notebook = data.get("notebook")
    if notebook is not None and not (isinstance(notebook, str) and _NOTEBOOK.match(notebook)):
        raise RubricError(
            f"{where}: notebook must be a relative path to an .ipynb file, like "
            "'notebooks/lab03_orm_workbook.ipynb'"
        )
    manifest = data.get("manifest")
    named = isinstance(manifest, str) and re.fullmatch(r"[a-z_]+\.toml", manifest)
    if manifest is not None and not named:
        raise RubricError(f"{where}: manifest must be a file name like 'capstone.toml'")
    notebook_criteria = {c.kind == "nbgrader" for c in criteria}
    if notebook is not None and notebook_criteria != {True}:
        raise RubricError(f"{where}: every criterion of a notebook lab must be kind = 'nbgrader'")
    if all(c.kind == MANUAL for c in criteria):
        raise RubricError(
            f"{where}: every criterion is kind = 'manual'; a rubric needs at least one criterion "
            "a grading run decides"
        )
    if notebook is None and True in notebook_criteria:
        raise RubricError(f"{where}: kind = 'nbgrader' criteria need notebook = '<path>.ipynb'")
    return Rubric(
        lab=lab,
        title=_require(data, "title", str, where),
        version=_require(data, "version", str, where),
        settings_module=data.get("settings_module", "config.settings.test"),
        timeout_seconds=timeout,
        migrations=migrations,
        criteria=criteria,
        path=path,
        digest="sha256:" + hashlib.sha256(raw).hexdigest(),
        notebook=notebook,
        manifest=manifest,
    )
