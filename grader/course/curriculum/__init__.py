"""The course agenda, ``curriculum.md``: parse it, check it, and render the schedule from it.

One module per step, each importing only the ones above it:

- :mod:`~grader.course.curriculum.markdown`: fences, headings, anchors and links, as the site and
  GitHub read them (nothing about the agenda).
- :mod:`~grader.course.curriculum.parse`: the agenda's format, read into an :class:`Agenda` of days,
  hours, lab hours and the capstone; :class:`AgendaError` when the text does not follow it.
- :mod:`~grader.course.curriculum.check`: the rules the agenda must satisfy
  (:func:`check_agenda`), every broken one a located ``Problem``.
- :mod:`~grader.course.curriculum.day_pages`: the day pages against the agenda and the page style,
  and the code they include (:func:`check_day_pages`, :func:`snippet_problems`).
- :mod:`~grader.course.curriculum.render`: the generated tables (``render_*``), for
  :mod:`grader.course.docs_sync`.
- :mod:`~grader.course.curriculum.cli`: ``python -m grader.course.curriculum [--root DIR]``, which
  exits :data:`OK` (0) when every rule holds, :data:`FAILED` (1) when one fails, and
  :data:`UNREADABLE` (2) when the agenda cannot be read.

The names below are the package's public interface, used by :mod:`grader.course.docs_sync` and
the tests; import them from here, not from the modules, so the modules may move.
"""

from __future__ import annotations

from grader.course.curriculum.check import check_agenda, lab_outcomes
from grader.course.curriculum.cli import FAILED, OK, UNREADABLE, main
from grader.course.curriculum.day_pages import (
    SnippetSources,
    check_day_pages,
    labs_taught,
    snippet_problems,
)
from grader.course.curriculum.markdown import github_anchor, site_anchor
from grader.course.curriculum.parse import Agenda, AgendaError, load_agenda, parse_agenda
from grader.course.curriculum.render import (
    render_day_schedule,
    render_outcome_coverage,
    render_schedule,
)

__all__ = [
    "FAILED",
    "OK",
    "UNREADABLE",
    "Agenda",
    "AgendaError",
    "SnippetSources",
    "check_agenda",
    "check_day_pages",
    "github_anchor",
    "lab_outcomes",
    "labs_taught",
    "load_agenda",
    "main",
    "parse_agenda",
    "render_day_schedule",
    "render_outcome_coverage",
    "render_schedule",
    "site_anchor",
    "snippet_problems",
]
