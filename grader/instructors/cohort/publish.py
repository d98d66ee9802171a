"""``cohort publish``: everything instructors hand out, from the gradebook.

Private (for the instructor to deliver, each learner's to that learner only): ``feedback/<id>.md``
and ``.html``, ``junit/<id>.xml``, ``results/<id>.json`` (the result document), and the Canvas
import CSV; for the instructor only, ``status-<lab>.csv`` (every learner's grading status, and
the learners whose submissions are identical). Every export shows the grade that counts: an
override is applied to all of them alike
(:func:`~grader.instructors.exports.published.published_document`). Public:
``public/cohort-<lab>.md``, the aggregates page (counts and means only, see
:mod:`grader.instructors.exports.aggregates`), also written to ``site_page`` when given.

Only official grades are published by default: a grade from local-mode grading was decided in a
process the learner's code could reach, so publishing one needs ``allow_local=True``
(``cohort publish --allow-local``). Nothing is written when the lab holds any.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

from grader.errors import UsageError
from grader.instructors.exports.aggregates import MIN_LEARNERS, aggregates_markdown, lab_stats
from grader.instructors.exports.canvas import assignment_column, canvas_csv
from grader.instructors.exports.feedback import Override, to_html, to_markdown
from grader.instructors.exports.junit import to_junit
from grader.instructors.exports.published import identical_submissions, published_document
from grader.instructors.exports.text import csv_cell
from grader.instructors.gradebook import Gradebook, GradeView
from grader.instructors.gradebook.store import NO_SUBMISSION


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def publish_lab(
    gradebook: Gradebook,
    lab: str,
    out: Path,
    *,
    assignment: str | None = None,
    canvas_assignment_id: str | None = None,
    site_page: Path | None = None,
    min_learners: int | None = None,
    allow_local: bool = False,
    site_url: str | None = None,
) -> list[tuple[str, Path]]:
    """Write every export of ``lab`` under ``out``; return ``(kind, path)`` for each summary.
    Feedback pages link each criterion's handout step to ``site_url`` (the course site) if given.

    Raises :class:`~grader.errors.UsageError`, writing nothing, when a current grade of ``lab``
    was not graded in official mode and ``allow_local`` is False (see module doc)."""
    grades = gradebook.grades(lab)
    local = sorted(
        g.learner.id
        for g in grades  # "no submission" ran no learner code: its override is the grade
        if g.document.get("mode") != "official" and g.submission_digest != NO_SUBMISSION
    )
    if local and not allow_local:
        shown = ", ".join(local[:5]) + (f" and {len(local) - 5} more" if len(local) > 5 else "")
        raise UsageError(
            f"{len(local)} of the {len(grades)} grades of {lab} come from local-mode grading "
            f"({shown}), which a learner's code can tamper with: grade the cohort again with "
            "`cohort grade --official`, or publish them anyway with --allow-local."
        )
    written: list[tuple[str, Path]] = []
    for g in grades:
        override = (
            Override(g.override_points, g.override_reason or "")
            if g.override_points is not None
            else None
        )
        name = f"{g.learner.name} ({g.learner.id})"
        _write(
            out / "feedback" / f"{g.learner.id}.md",
            to_markdown(g.document, learner=name, override=override, site_url=site_url),
        )
        _write(
            out / "feedback" / f"{g.learner.id}.html",
            to_html(g.document, learner=name, override=override, site_url=site_url),
        )
        document = published_document(g)
        _write(out / "junit" / f"{g.learner.id}.xml", to_junit(document))
        _write(out / "results" / f"{g.learner.id}.json", json.dumps(document, indent=2) + "\n")
    if grades:
        written += [
            ("feedback (private)", out / "feedback"),
            ("junit (private)", out / "junit"),
            ("results (private)", out / "results"),
        ]
    first = grades[0].document if grades else None
    if first is not None:
        column = assignment_column(
            assignment or f"{lab}: {first['lab']['title']}", canvas_assignment_id
        )
        csv_text = canvas_csv(gradebook.learners(), grades, column, first["score"]["max_points"])
        written.append(("canvas (private)", _write(out / f"canvas-{lab}.csv", csv_text)))
        status = _write(out / f"status-{lab}.csv", status_csv(grades))
        written.append(("grading status (instructor)", status))
        ungraded = sum(g.status != "graded" and g.override_points is None for g in grades)
        if ungraded:
            written.append((f"NOT GRADED, blank in the LMS file: {ungraded} learner(s)", status))
        for digest, ids in identical_submissions(grades):
            written.append((f"IDENTICAL SUBMISSIONS ({digest[:19]}…): {', '.join(ids)}", status))
    stats = lab_stats(grades)
    if stats is not None:
        page = aggregates_markdown(stats, min_learners=min_learners or MIN_LEARNERS)
        written.append(("aggregates (public)", _write(out / "public" / f"cohort-{lab}.md", page)))
        if site_page is not None:
            written.append(("aggregates (public)", _write(site_page, page)))
    return written


def status_csv(grades: Sequence[GradeView]) -> str:
    """Every graded learner's status: the LMS file cannot say that a blank cell means "could
    not be graded" (a column there would become an assignment), so this file does."""
    identical = {i: ids for _, ids in identical_submissions(grades) for i in ids}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        ["learner_id", "status", "points", "max_points", "overridden", "identical_to", "message"]
    )
    for g in grades:
        writer.writerow(
            [
                csv_cell(g.learner.id),
                g.status,
                "" if g.status != "graded" and g.override_points is None else g.points,
                g.max_points,
                "yes" if g.override_points is not None else "",
                csv_cell(" ".join(i for i in identical.get(g.learner.id, []) if i != g.learner.id)),
                csv_cell(str(g.document.get("message") or "")[:300]),
            ]
        )
    return out.getvalue()
