"""Per-learner feedback pages (Markdown and HTML) from one result document.

For private delivery to one learner: they may show the learner's name. Both formats say the same
thing in the same order: score (and any instructor override, with its reason), a table of
criteria, then what to work on, each failing criterion with the rubric's advice and what the
check observed. Observed detail comes from checks that ran the learner's code, so it is treated
as untrusted: a code block in Markdown, escaped in HTML (:mod:`grader.instructors.exports.text`),
and without the grader's temporary folders (a learner has no use for ``/tmp/grader-lab04-…``).

A criterion's ``see`` (``README.md#step-2-…``) is a link: to the lab's page on the course site
when ``site_url`` is given (``SITE_URL``, as the site is built with), otherwise to the handout in
the course repository (``labs/<lab>/README.md#…``).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from grader.instructors.exports.text import (
    html_authored,
    md_authored,
    md_fence,
    md_text,
    scrub_work_paths,
)

_LABELS = {
    "passed": "passed",
    "failed": "not yet",
    "not_run": "not checked",
    "official_only": "decided by official grading",
    "awaiting_instructor": "awaiting your instructor",
}


def _note(criterion: dict[str, Any]) -> str | None:
    """What the learner is told about a people-decided criterion: the instructor's reason once
    scored, what the instructor will look at before (``None`` for every other criterion)."""
    review = criterion.get("review")
    if review:
        return f"Your instructor ({review['by']}) gave {review['points']}: {review['reason']}"
    if criterion["status"] == "awaiting_instructor":
        return "Your instructor scores this at the demo or the code review: " + str(
            criterion["feedback"]
        )
    return None


@dataclass(frozen=True)
class Override:
    """An instructor's override shown on the feedback page."""

    points: int
    reason: str


_STEP = re.compile(r"^step-(\d+)")


def handout_link(lab: str, see: str, site_url: str | None) -> tuple[str, str]:
    """``(label, href)`` for a criterion's ``see``: "Step 2 of the lab07 handout" and where."""
    page, _, anchor = see.partition("#")
    step = _STEP.match(anchor)
    label = f"Step {step.group(1)} of the {lab} handout" if step else f"The {lab} handout"
    fragment = f"#{anchor}" if anchor else ""
    if site_url and page == "README.md":  # the site serves labs/<lab>/README.md at labs/<lab>/
        return label, f"{site_url.rstrip('/')}/labs/{lab}/{fragment}"
    return label, f"labs/{lab}/{see}"


def _score_line(result: dict[str, Any], override: Override | None) -> str:
    score = result["score"]
    if override is not None:
        return (
            f"{override.points}/{score['max_points']} (set by your instructor; the grader gave "
            f"{score['points']}/{score['max_points']})"
        )
    return f"{score['points']}/{score['max_points']} ({score['percent']:g}%)"


def to_markdown(
    result: dict[str, Any],
    *,
    learner: str | None = None,
    override: Override | None = None,
    site_url: str | None = None,
) -> str:
    """The feedback page for ``result`` as Markdown."""
    lab = result["lab"]
    out = [f"# {md_authored(lab['id'])}: {md_authored(lab['title'])}", ""]
    if learner:
        out += [f"**Learner:** {md_text(learner)}  ", ""]
    out += [f"**Score:** {_score_line(result, override)}", ""]
    if override is not None:
        out += [f"**Why it was changed:** {md_text(override.reason)}", ""]
    if result["status"] != "graded":
        out += [
            f"**Your submission could not be graded ({result['status']}).** "
            "No criterion was checked. What happened:",
            "",
            md_fence(scrub_work_paths(result["message"] or "")),
            "",
        ]
    out += ["| Criterion | Points | Result |", "|---|---|---|"]
    for c in result["criteria"]:
        out.append(
            f"| {md_authored(c['title'])} | {c['points']}/{c['max_points']} | "
            f"{_LABELS[c['status']]} |"
        )
    notes = [(c, _note(c)) for c in result["criteria"] if _note(c)]
    if notes:
        out += ["", "## Decided by your instructor", ""]
        out += [
            f"- **{md_authored(c['title'])}** ({c['points']}/{c['max_points']}): "
            f"{md_text(note or '')}"
            for c, note in notes
        ]
    todo = [
        c
        for c in result["criteria"]
        if c["status"] in ("failed", "official_only") and not c.get("review")
    ]
    if todo:
        out += ["", "## What to work on", ""]
        for c in todo:
            out += [f"### {md_authored(c['title'])} ({c['points']}/{c['max_points']})", ""]
            if c["feedback"]:
                out += [md_authored(c["feedback"]), ""]
            if c["detail"]:
                out += ["What the check observed:", "", md_fence(scrub_work_paths(c["detail"]))]
                out += [""]
            if c["see"]:
                label, href = handout_link(lab["id"], c["see"], site_url)
                out += [f"See [{md_text(label)}](<{href.replace('>', '%3E')}>)", ""]
    out += [
        "",
        f"<small>Rubric {md_text(lab['rubric_version'])} · graded {md_text(result['finished_at'])}"
        f" · submission {md_text((result['submission']['digest'] or 'n/a')[:19])}</small>",
        "",
    ]
    return "\n".join(out)


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;"
    "padding:.3rem .5rem;text-align:left}pre{background:#f5f5f5;padding:.6rem;overflow:auto;"
    "white-space:pre-wrap}.passed{color:#1a7f37}.failed{color:#cf222e}small{color:#666}"
)


def to_html(
    result: dict[str, Any],
    *,
    learner: str | None = None,
    override: Override | None = None,
    site_url: str | None = None,
) -> str:
    """The feedback page for ``result`` as a standalone HTML document (no scripts)."""
    e = html.escape
    lab = result["lab"]
    title = f"{lab['id']}: {lab['title']}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{e(title)}</h1>",
    ]
    if learner:
        parts.append(f"<p><strong>Learner:</strong> {e(learner)}</p>")
    parts.append(f"<p><strong>Score:</strong> {e(_score_line(result, override))}</p>")
    if override is not None:
        parts.append(f"<p><strong>Why it was changed:</strong> {e(override.reason)}</p>")
    if result["status"] != "graded":
        parts.append(
            f"<p><strong>Your submission could not be graded ({e(result['status'])}).</strong> "
            "No criterion was checked. What happened:</p>"
            f"<pre>{e(scrub_work_paths(result['message'] or ''))}</pre>"
        )
    rows = "".join(
        f"<tr><td>{e(c['title'])}</td><td>{c['points']}/{c['max_points']}</td>"
        f'<td class="{e(c["status"])}">{e(_LABELS[c["status"]])}</td></tr>'
        for c in result["criteria"]
    )
    parts.append(
        "<table><thead><tr><th>Criterion</th><th>Points</th><th>Result</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )
    notes = [(c, _note(c)) for c in result["criteria"] if _note(c)]
    if notes:
        items = "".join(
            f"<li><strong>{e(c['title'])}</strong> ({c['points']}/{c['max_points']}): "
            f"{e(note or '')}</li>"
            for c, note in notes
        )
        parts.append(f"<h2>Decided by your instructor</h2><ul>{items}</ul>")
    todo = [
        c
        for c in result["criteria"]
        if c["status"] in ("failed", "official_only") and not c.get("review")
    ]
    if todo:
        parts.append("<h2>What to work on</h2>")
        for c in todo:
            parts.append(f"<h3>{e(c['title'])} ({c['points']}/{c['max_points']})</h3>")
            if c["feedback"]:
                parts.append(f"<p>{html_authored(c['feedback'])}</p>")
            if c["detail"]:
                observed = e(scrub_work_paths(c["detail"]))
                parts.append(f"<p>What the check observed:</p><pre>{observed}</pre>")
            if c["see"]:
                label, href = handout_link(lab["id"], c["see"], site_url)
                parts.append(f'<p>See <a href="{e(href)}">{e(label)}</a></p>')
    digest = (result["submission"]["digest"] or "n/a")[:19]
    parts.append(
        f"<p><small>Rubric {e(lab['rubric_version'])} · graded {e(result['finished_at'])} · "
        f"submission {e(digest)}</small></p></body></html>"
    )
    return "\n".join(parts) + "\n"
