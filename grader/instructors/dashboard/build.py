"""Write the dashboard: ``index.html`` (charts and tables) and CSV files, private or public.

Contract of :func:`build_dashboard`:

- The output folder holds one build and nothing else. A folder that does not exist or is empty
  is used; a folder holding an earlier dashboard build (its ``dashboard.json`` manifest lists
  the files it wrote) has those files replaced; any other folder is refused. So a public build
  can never ship next to a private file left over from an earlier build in the same place.
- Private build: every roster learner by name and id, their standing in every lab, who looks
  stuck and why, and the cohort figures.
- Public build: the cohort figures only (see :mod:`grader.instructors.dashboard`), computed only
  from labs
  with at least ``min_learners`` graded learners; nothing that names or scores one learner is
  passed to the page or CSV writers.
- The page is one self-contained HTML file (inline CSS, inline SVG, no script, no request to
  any server), so it opens from disk, offline, in any browser.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from grader import __version__
from grader.errors import UsageError
from grader.instructors.dashboard import charts
from grader.instructors.dashboard.analysis import (
    REVISIT_BELOW,
    STANDS_OUT,
    CriterionRate,
    LabSummary,
    LearnerRow,
    OutcomeProgress,
    StuckLearner,
    StuckRules,
    criterion_rates,
    describe_duration,
    find_stuck,
    lab_summary,
    learner_matrix,
    outcome_progress,
    outcome_titles,
)
from grader.instructors.dashboard.data import CohortData, load_cohort
from grader.instructors.exports.aggregates import MIN_LEARNERS
from grader.instructors.exports.text import csv_cell, html_authored
from grader.instructors.gradebook import Gradebook

MANIFEST = "dashboard.json"
# What each kind of build writes. The manifest names them *before* anything is written, so a
# build that fails half-way leaves a folder the next build still recognises and cleans.
PRIVATE_FILES = (
    "index.html",
    "learners-labs.csv",
    "stuck.csv",
    "criteria.csv",
    "outcomes.csv",
    "learner-outcomes.csv",
    "labs.csv",
)
PUBLIC_FILES = ("index.html", "labs.csv", "criteria.csv", "outcomes.csv")


@dataclass(frozen=True)
class DashboardBuild:
    """What a build wrote. ``stuck`` is None for a public build (it never looks at learners)."""

    out: Path
    page: Path
    files: tuple[Path, ...]
    public: bool
    learners: int
    labs: tuple[str, ...]
    stuck: int | None


# -- output folder --------------------------------------------------------------------------


def _prepare(out: Path) -> None:
    """Make ``out`` ready for a build (see module doc: one build and nothing else)."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} is a file; give a folder for the dashboard.")
    out.mkdir(parents=True, exist_ok=True)
    present = {p.name for p in out.iterdir()}
    if not present:
        return
    manifest = out / MANIFEST
    try:
        previous = set(json.loads(manifest.read_text(encoding="utf-8"))["files"])
    except (OSError, ValueError, KeyError, TypeError):
        raise UsageError(
            f"{out} is not empty and holds no earlier dashboard build; give an empty or new "
            "folder (a public build must not land next to other files)."
        ) from None
    unknown = present - previous - {MANIFEST}
    if unknown:
        raise UsageError(
            f"{out} holds files the dashboard did not write ({', '.join(sorted(unknown))}); "
            "move them away or build into another folder."
        )
    for name in previous & present:
        (out / name).unlink()
    manifest.unlink()


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(v) if isinstance(v, str) else v for v in row])
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _percent(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.0f}%"


def _number(value: float | None) -> str | float:
    return "" if value is None else round(value, 2)


# -- HTML pieces ----------------------------------------------------------------------------

CSS = """
:root { color-scheme: light; --ink: #111827; --muted: #4b5563; --line: #e5e7eb; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
  color: var(--ink); background: #f8fafc; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 1.7rem; margin: 0 0 4px; }
h2 { font-size: 1.25rem; margin: 0 0 8px; }
h3 { font-size: 1.05rem; margin: 18px 0 6px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 10px;
  padding: 18px 20px; margin: 18px 0; }
.meta, .note { color: var(--muted); font-size: 0.92rem; margin: 4px 0; }
.badge { display: inline-block; padding: 4px 10px; border-radius: 999px; font-weight: 600;
  font-size: 0.88rem; margin: 8px 0; }
.badge.private { background: #fee2e2; color: #991b1b; }
.badge.public { background: #dcfce7; color: #166534; }
nav { margin: 10px 0 0; font-size: 0.92rem; }
nav a { margin-right: 14px; color: #0f766e; }
.tiles { display: flex; gap: 12px; flex-wrap: wrap; margin-top: 14px; }
.tile { flex: 1 1 150px; background: #fff; border: 1px solid var(--line); border-radius: 10px;
  padding: 10px 14px; }
.tile b { display: block; font-size: 1.6rem; }
.tile span { color: var(--muted); font-size: 0.88rem; }
.tile.alert b { color: #b91c1c; }
figure { margin: 8px 0; overflow-x: auto; }
svg.chart { max-width: 100%; height: auto; display: block; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; margin: 8px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left;
  vertical-align: top; }
th { background: #f1f5f9; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.score { text-align: center; font-variant-numeric: tabular-nums; min-width: 4.5em; }
tr.revisit td:first-child { border-left: 4px solid #b91c1c; }
details { margin: 6px 0; }
summary { cursor: pointer; color: #0f766e; }
ul.reasons { margin: 0; padding-left: 18px; }
code { font-size: 0.88em; }
footer { color: var(--muted); font-size: 0.88rem; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _table(header: Sequence[str], rows: Iterable[str], numeric: Sequence[int] = ()) -> str:
    head = "".join(
        f'<th class="num">{_e(h)}</th>' if i in numeric else f"<th>{_e(h)}</th>"
        for i, h in enumerate(header)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _as_table(table: str) -> str:
    return f"<details><summary>The same figures as a table</summary>{table}</details>"


def _page(title: str, badge: str, intro: str, body: Sequence[str], footer: str) -> str:
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # Nothing on the page may leave the machine: no script, no remote fetch of any kind.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
        '<meta name="robots" content="noindex">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body><main>"
        f"<header><h1>{_e(title)}</h1>{badge}{intro}</header>"
        + "".join(body)
        + f"<footer>{footer}</footer></main></body></html>\n"
    )


def _tiles(items: Sequence[tuple[str, str, bool]]) -> str:
    return (
        '<div class="tiles">'
        + "".join(
            f'<div class="tile{" alert" if alert else ""}"><b>{_e(value)}</b>'
            f"<span>{_e(label)}</span></div>"
            for value, label, alert in items
        )
        + "</div>"
    )


def _not_met_by(rate: CriterionRate, names: dict[str, str]) -> str:
    """A cell naming the learners whose current graded result fails ``rate``'s criterion."""
    who = ", ".join(_e(names.get(i, i)) for i in rate.failing)
    return f'<td class="who" data-criterion="{_e(rate.lab)}/{_e(rate.id)}">{who}</td>'


def _criteria_section(
    summaries: Sequence[LabSummary],
    rates: dict[str, list[CriterionRate]],
    revisit_below: float,
    suppressed: Sequence[str],
    min_learners: int,
    names: dict[str, str] | None = None,
) -> str:
    """The criteria section; ``names`` (learner id → name, private build only) adds who does
    not meet each criterion."""
    parts = [
        '<section id="criteria"><h2>Criteria: what to revisit in class</h2>',
        f'<p class="note">Share of graded learners whose current result meets each criterion, '
        f"lowest first. Marked <i>revisit</i>: below the dashed line "
        f"({_percent(revisit_below)}), at least {100 * STANDS_OUT:.0f} points below the lab's "
        "median criterion, and not being fixed by the learners who failed it before (fewer "
        "than half of them pass it now).</p>",
    ]
    for summary in summaries:
        lab_rates = sorted(
            rates[summary.lab], key=lambda r: r.pass_rate if r.pass_rate is not None else 2.0
        )
        shown = [r for r in lab_rates if r.pass_rate is not None]
        parts.append(f"<h3>{_e(summary.lab)}: {html_authored(summary.title)}</h3>")
        if not shown:
            parts.append('<p class="note">No graded submission yet.</p>')
            continue
        parts.append(
            "<figure>"
            + charts.rate_bars(
                [r.title for r in shown],
                [r.pass_rate or 0.0 for r in shown],
                [f"{_percent(r.pass_rate)} ({r.passed} of {r.graded})" for r in shown],
                f"{summary.lab}: criteria met, share of graded learners",
                threshold=revisit_below,
                threshold_label=f"revisit below {_percent(revisit_below)}",
            )
            + "</figure>"
        )
        rows = [
            ('<tr class="revisit">' if r.revisit(revisit_below) else "<tr>")
            + f"<td>{html_authored(r.title)} <code>{_e(r.id)}</code></td>"
            f'<td class="num">{r.outcome}</td><td class="num">{r.max_points}</td>'
            f'<td class="num">{r.passed} of {r.graded}</td>'
            f'<td class="num">{_percent(r.pass_rate)}</td>'
            f"<td>{'revisit' if r.revisit(revisit_below) else ''}</td>"
            + (_not_met_by(r, names) if names is not None else "")
            + "</tr>"
            for r in lab_rates
        ]
        headers = ["Criterion", "Outcome", "Points", "Met", "Pass rate", ""]
        parts.append(
            _as_table(
                _table(
                    headers + (["Not met by"] if names is not None else []),
                    rows,
                    numeric=(1, 2, 3, 4),
                )
            )
        )
    for lab in suppressed:
        parts.append(
            f'<h3>{_e(lab)}</h3><p class="note">Fewer than {min_learners} learners graded: '
            "no figures are published yet (with so few, a share would reveal individual "
            "results).</p>"
        )
    parts.append("</section>")
    return "".join(parts)


def _labs_section(summaries: Sequence[LabSummary]) -> str:
    if not summaries:
        return ""
    counts = [
        {
            "full marks": s.full_marks,
            "graded, not full": s.graded - s.full_marks,
            "could not be graded": s.not_graded,
            "no submission": s.missing,
        }
        for s in summaries
    ]
    rows = [
        f"<tr><td>{_e(s.lab)}: {html_authored(s.title)}</td>"
        f'<td class="num">{s.graded}</td><td class="num">{s.full_marks}</td>'
        f'<td class="num">{s.not_graded}</td><td class="num">{s.missing}</td>'
        f'<td class="num">{"" if s.mean_points is None else f"{s.mean_points:.1f}"}'
        f" of {s.max_points}</td></tr>"
        for s in summaries
    ]
    return (
        '<section id="labs"><h2>Labs: where the cohort is</h2>'
        '<p class="note">Learners by the status of their current result in each lab.</p>'
        "<figure>"
        + charts.status_bars([s.lab for s in summaries], counts, "Learners by status, per lab")
        + "</figure>"
        + _as_table(
            _table(
                ["Lab", "Graded", "Full marks", "Could not be graded", "No submission", "Mean"],
                rows,
                numeric=(1, 2, 3, 4, 5),
            )
        )
        + "</section>"
    )


def _outcome_chart(progress: Sequence[OutcomeProgress], title: str) -> str:
    shown = [p for p in progress if p.progress is not None]
    if not shown:
        return '<p class="note">No outcome figures yet.</p>'
    return (
        "<figure>"
        + charts.rate_bars(
            [f"{p.outcome}. {p.title}" for p in shown],
            [p.progress or 0.0 for p in shown],
            [f"{_percent(p.progress)} ({p.earned} of {p.possible} points)" for p in shown],
            title,
        )
        + "</figure>"
    )


# -- the two builds -------------------------------------------------------------------------


def _private(
    data: CohortData,
    out: Path,
    *,
    rules: StuckRules,
    now: datetime,
    titles: dict[int, str],
    revisit_below: float,
) -> tuple[str, list[Path], int]:
    matrix = learner_matrix(data)
    stuck = find_stuck(data, rules, now)
    summaries = [s for lab in data.labs if (s := lab_summary(data, lab)) is not None]
    rates = {lab: criterion_rates(data, lab) for lab in data.labs}
    cohort_outcomes = outcome_progress(data, data.labs, titles)
    per_learner = {
        x.id: {p.outcome: p for p in outcome_progress(data, data.labs, titles, [x.id])}
        for x in data.learners
    }
    revisit = sum(r.revisit(revisit_below) for lab in rates.values() for r in lab)
    files = _private_csv(data, out, matrix, stuck, rates, cohort_outcomes, per_learner)

    stuck_rows = [
        f'<tr data-learner="{_e(s.learner.id)}"><td>{_e(s.learner.name)}</td>'
        f"<td><code>{_e(s.learner.id)}</code></td>"
        f'<td><ul class="reasons">{"".join(f"<li>{_e(r.text)}</li>" for r in s.reasons)}</ul>'
        f"</td><td>{_e(_when(s.last_progress))}</td></tr>"
        for s in stuck
    ]
    stuck_html = (
        _table(["Learner", "Id", "Why", "Last progress"], stuck_rows)
        if stuck
        else '<p class="note">Nobody looks stuck by these rules.</p>'
    )
    rule_text = (
        f"no progress for {describe_duration(rules.after)}"
        + (
            f", or the same criterion failing in {rules.repeated} consecutive attempts"
            if rules.repeated
            else ""
        )
        + " (times are when results were recorded)."
    )
    names = [f"{x.learner.name} ({x.learner.id})" for x in matrix]
    learner_rows = [
        f'<tr data-learner="{_e(row.learner.id)}"><td>{_e(row.learner.name)} '
        f"<code>{_e(row.learner.id)}</code></td>"
        + "".join(_score_cell(cell.fraction, cell.label, cell.status) for cell in row.cells)
        + "</tr>"
        for row in matrix
    ]
    outcome_numbers = [p.outcome for p in cohort_outcomes]
    body = [
        _tiles(
            [
                (str(len(data.learners)), "learners on the roster", False),
                (str(len(data.labs)), "labs with results", False),
                (str(len(stuck)), "may be stuck", bool(stuck)),
                (str(revisit), "criteria to revisit", bool(revisit)),
            ]
        ),
        '<section id="stuck"><h2>Learners who may be stuck</h2>'
        f'<p class="note">Stuck means {_e(rule_text)} A visit helps more than a hint.</p>'
        f"{stuck_html}</section>",
        '<section id="learners"><h2>Learners by lab</h2>'
        '<p class="note">Points of each learner\'s current result; * marks an instructor '
        "override, <i>error</i> or <i>time</i> a submission that could not be graded, — no "
        "submission.</p>"
        + (
            "<figure>"
            + charts.heatmap(
                names,
                list(data.labs),
                [[c.fraction for c in row.cells] for row in matrix],
                [[c.label for c in row.cells] for row in matrix],
                "Points by learner and lab",
            )
            + "</figure>"
            if matrix and data.labs
            else ""
        )
        + _as_table(_table(["Learner", *data.labs], learner_rows))
        + "</section>",
        _criteria_section(
            summaries, rates, revisit_below, (), MIN_LEARNERS, {x.id: x.name for x in data.learners}
        ),
        '<section id="outcomes"><h2>Progress by learning outcome</h2>'
        '<p class="note">Of the points the criteria serving each outcome are worth, in the labs '
        "above and for every learner on the roster, the share earned so far.</p>"
        + _outcome_chart(cohort_outcomes, "Cohort: share of outcome points earned")
        + (
            "<figure>"
            + charts.heatmap(
                names,
                [f"{n}. {titles.get(n, '')}" for n in outcome_numbers],
                [[per_learner[x.learner.id][n].progress for n in outcome_numbers] for x in matrix],
                [
                    [_percent(per_learner[x.learner.id][n].progress) for n in outcome_numbers]
                    for x in matrix
                ],
                "Share of outcome points by learner",
                column_width=1.45,
            )
            + "</figure>"
            if matrix and outcome_numbers
            else ""
        )
        + "</section>",
        _labs_section(summaries),
    ]
    intro = (
        f'<p class="meta">Gradebook as of {_e(_when(now))}: {len(data.learners)} learners, '
        f"labs {_e(', '.join(data.labs) or 'none yet')}.</p>"
        '<nav><a href="#stuck">Stuck</a><a href="#learners">Learners by lab</a>'
        '<a href="#criteria">Criteria</a><a href="#outcomes">Outcomes</a>'
        '<a href="#labs">Labs</a></nav>'
    )
    badge = (
        '<p class="badge private">Private: names and scores of learners. For facilitators; '
        "never publish this folder (build with --public for that).</p>"
    )
    page = _page("Cohort dashboard", badge, intro, body, _footer(files, now))
    return page, files, len(stuck)


def _score_cell(fraction: float | None, label: str, status: str) -> str:
    fill = charts.score_color(fraction)
    return (
        f'<td class="score" data-status="{_e(status)}" style="background:{fill};'
        f'color:{charts.text_color(fill)}">{_e(label)}</td>'
    )


def _when(moment: datetime | None) -> str:
    return "never" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _footer(files: Sequence[Path], now: datetime) -> str:
    links = ", ".join(f'<a href="{_e(p.name)}">{_e(p.name)}</a>' for p in files)
    return (
        f"<p>The figures as CSV: {links}.</p>"
        f"<p>Built {_e(_when(now))} by the BlogCraftAI grader {_e(__version__)} "
        "(<code>python -m grader cohort dashboard</code>).</p>"
    )


def _private_csv(
    data: CohortData,
    out: Path,
    matrix: Sequence[LearnerRow],
    stuck: Sequence[StuckLearner],
    rates: dict[str, list[CriterionRate]],
    outcomes: Sequence[OutcomeProgress],
    per_learner: dict[str, dict[int, OutcomeProgress]],
) -> list[Path]:
    grades = data.grades
    files = [
        _write_csv(
            out / "learners-labs.csv",
            [
                "learner_id",
                "name",
                "lab",
                "status",
                "points",
                "max_points",
                "override",
                "graded_at",
            ],
            (
                [
                    row.learner.id,
                    row.learner.name,
                    cell.lab,
                    cell.status,
                    "" if cell.points is None else cell.points,
                    "" if cell.max_points is None else cell.max_points,
                    "yes" if cell.overridden else "",
                    g.graded_at.isoformat() if (g := grades[cell.lab].get(row.learner.id)) else "",
                ]
                for row in matrix
                for cell in row.cells
            ),
        ),
        _write_csv(
            out / "stuck.csv",
            ["learner_id", "name", "reason", "lab", "criteria", "detail", "last_progress"],
            (
                [
                    s.learner.id,
                    s.learner.name,
                    r.kind,
                    r.lab or "",
                    " ".join(r.criteria),
                    r.text,
                    s.last_progress.isoformat() if s.last_progress else "",
                ]
                for s in stuck
                for r in s.reasons
            ),
        ),
        _criteria_csv(out, rates),
        _outcomes_csv(out, outcomes),
        _write_csv(
            out / "learner-outcomes.csv",
            ["learner_id", "name", "outcome", "title", "earned", "possible", "progress"],
            (
                [x.id, x.name, p.outcome, p.title, p.earned, p.possible, _number(p.progress)]
                for x in data.learners
                for p in per_learner[x.id].values()
            ),
        ),
        _labs_csv(out, [s for lab in data.labs if (s := lab_summary(data, lab)) is not None]),
    ]
    return files


def _criteria_csv(out: Path, rates: dict[str, list[CriterionRate]]) -> Path:
    return _write_csv(
        out / "criteria.csv",
        ["lab", "criterion", "title", "outcome", "max_points", "graded", "passed", "pass_rate"],
        (
            [
                r.lab,
                r.id,
                r.title,
                r.outcome,
                r.max_points,
                r.graded,
                r.passed,
                _number(r.pass_rate),
            ]
            for lab in rates.values()
            for r in lab
        ),
    )


def _outcomes_csv(out: Path, outcomes: Sequence[OutcomeProgress]) -> Path:
    return _write_csv(
        out / "outcomes.csv",
        ["outcome", "title", "earned", "possible", "progress"],
        ([p.outcome, p.title, p.earned, p.possible, _number(p.progress)] for p in outcomes),
    )


def _labs_csv(out: Path, summaries: Sequence[LabSummary]) -> Path:
    return _write_csv(
        out / "labs.csv",
        [
            "lab",
            "title",
            "max_points",
            "roster",
            "graded",
            "full_marks",
            "not_graded",
            "missing",
            "mean_points",
        ],
        (
            [
                s.lab,
                s.title,
                s.max_points,
                s.roster,
                s.graded,
                s.full_marks,
                s.not_graded,
                s.missing,
                _number(s.mean_points),
            ]
            for s in summaries
        ),
    )


def _public(
    data: CohortData,
    out: Path,
    *,
    now: datetime,
    titles: dict[int, str],
    revisit_below: float,
    min_learners: int,
) -> tuple[str, list[Path]]:
    # Only labs with enough graded learners contribute any figure (see
    # grader.instructors.dashboard).
    summaries, suppressed = [], []
    for lab in data.labs:
        summary = lab_summary(data, lab)
        if summary is None:
            continue
        if summary.graded >= min_learners:
            summaries.append(summary)
        else:
            suppressed.append(lab)
    shown = [s.lab for s in summaries]
    rates = {lab: criterion_rates(data, lab) for lab in shown}
    outcomes = outcome_progress(data, shown, titles)
    files = [
        _labs_csv(out, summaries),
        _criteria_csv(out, rates),
        _outcomes_csv(out, outcomes),
    ]
    body = [
        _labs_section(summaries),
        _criteria_section(summaries, rates, revisit_below, suppressed, min_learners),
        '<section id="outcomes"><h2>Progress by learning outcome</h2>'
        '<p class="note">Of the points the criteria serving each outcome are worth, in the labs '
        "above and for every learner of the cohort, the share earned so far.</p>"
        + _outcome_chart(outcomes, "Cohort: share of outcome points earned")
        + "</section>",
    ]
    if not summaries:
        body.insert(
            0,
            f'<section><p class="note">No lab has {min_learners} or more graded learners yet, '
            "so no figures are published.</p></section>",
        )
    intro = (
        f'<p class="meta">As of {_e(_when(now))}. Labs: '
        f"{_e(', '.join(data.labs) or 'none yet')}.</p>"
    )
    badge = (
        '<p class="badge public">Aggregates only: counts and shares for the whole cohort. No '
        "learner is named or scored here.</p>"
    )
    return _page("Cohort progress", badge, intro, body, _footer(files, now)), files


def build_dashboard(
    gradebook: Gradebook,
    out: Path,
    *,
    public: bool = False,
    labs: Sequence[str] | None = None,
    rules: StuckRules | None = None,
    now: datetime | None = None,
    course_root: Path | None = None,
    min_learners: int = MIN_LEARNERS,
    revisit_below: float = REVISIT_BELOW,
) -> DashboardBuild:
    """Build the dashboard of ``gradebook`` into ``out`` (see module doc).

    ``labs`` defaults to every lab with a result; ``now`` (default: the current time) is what
    "no progress for a set time" is measured against; ``course_root`` is where the learning
    outcomes' titles are read from (``docs/index.md``).
    """
    if min_learners < 1:
        raise UsageError("--min-learners must be 1 or more.")
    if not 0.0 < revisit_below <= 1.0:
        raise UsageError("The revisit threshold must be a share between 0 and 1.")
    moment = now or datetime.now(UTC)
    data = load_cohort(gradebook, labs)
    titles = outcome_titles(course_root)
    _prepare(out)
    declared = PUBLIC_FILES if public else PRIVATE_FILES
    manifest = {"kind": "public" if public else "private", "files": list(declared)}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    stuck: int | None = None
    if public:
        page, files = _public(
            data,
            out,
            now=moment,
            titles=titles,
            revisit_below=revisit_below,
            min_learners=min_learners,
        )
    else:
        page, files, stuck = _private(
            data,
            out,
            rules=rules or StuckRules(),
            now=moment,
            titles=titles,
            revisit_below=revisit_below,
        )
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    written = (index, *files)
    # A file the manifest does not name would survive the next build: never let one ship.
    assert sorted(p.name for p in written) == sorted(declared), "update PRIVATE/PUBLIC_FILES"
    return DashboardBuild(
        out=out,
        page=index,
        files=written,
        public=public,
        learners=len(data.learners),
        labs=data.labs,
        stuck=stuck,
    )
