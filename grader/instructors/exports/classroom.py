"""GitHub Classroom: Exercism v3 results, the ``Points X/Y`` notice, the workflow template.

GitHub Classroom's reporter (``classroom-resources/autograding-grading-reporter``) reads, from
each grading step, an output named ``result``: base64 of an Exercism-v3-style JSON document with
``max_score`` and a ``score`` per test; it sums them and emits the notice ``Points X/Y`` (title
"Autograding complete") and ``{"totalPoints": X, "maxPoints": Y}`` (title "Autograding report"),
from which Classroom takes the grade. :func:`github_step` produces the same output and the same
two notices, so the workflow needs no JavaScript action, and its ``result`` output still feeds the
official reporter if an instructor prefers it.

Exercism v3 (``exercism/docs`` test-runner interface): ``version`` 3; ``status`` ``pass`` (all
passed), ``fail`` (some failed) or ``error`` (nothing could run, with ``message``); ``tests`` in
order, each with ``name``, ``status``, ``message`` (required for fail and error) and
``test_code``. Here a test is a rubric criterion; its ``test_code`` names the criterion and where
the handout covers it, never the hidden checks (their names would tell a learner what the
private tests probe; the result JSON a learner cannot see keeps them).
"""

from __future__ import annotations

import base64
import json
import shlex
from pathlib import Path
from string import Template
from typing import Any

TEMPLATE = Path(__file__).parent / "templates" / "classroom-autograding.yml"


def to_exercism_v3(result: dict[str, Any]) -> dict[str, Any]:
    """The Exercism v3 document (with Classroom's ``max_score``/``score``) for ``result``."""
    graded = result["status"] == "graded"
    tests = []
    for c in result["criteria"]:
        passed = c["status"] == "passed"
        test: dict[str, Any] = {
            "name": c["title"],
            "status": "pass" if passed else ("fail" if graded else "error"),
            "message": None,
            "test_code": f"rubric criterion {c['id']}"
            + (f" (handout: {c['see']})" if c.get("see") else ""),
            "filename": f"labs/{result['lab']['id']}/rubric.toml",
            "line_no": 0,
            "duration": round(sum(t["duration"] for t in c["tests"]), 4),
            "score": c["points"],
            "max_score": c["max_points"],
        }
        if not passed:
            detail = f" Observed: {c['detail']}" if c["detail"] else ""
            if c.get("review"):
                detail = f" Scored by {c['review']['by']}: {c['review']['reason']}"
            elif c["status"] == "awaiting_instructor":
                detail = " Awaiting the instructor (demo or code review)."
            test["message"] = (
                (c["feedback"] or "Not passed.") + detail
                if graded
                else (result["message"] or result["status"])
            )
        tests.append(test)
    if not graded:
        status = "error"
    elif all(t["status"] == "pass" for t in tests):
        status = "pass"
    else:
        status = "fail"
    return {
        "version": 3,
        "status": status,
        "message": None if graded else (result["message"] or result["status"])[:65535],
        "max_score": result["score"]["max_points"],
        "tests": tests,
    }


def encode(document: dict[str, Any]) -> str:
    """base64 of the compact JSON, as the Classroom runners put it in their ``result`` output."""
    compact = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    return base64.b64encode(compact.encode("utf-8")).decode("ascii")


def notices(document: dict[str, Any]) -> list[str]:
    """The two workflow-command notices GitHub Classroom reads the grade from."""
    total = sum(t["score"] for t in document["tests"])
    maximum = document["max_score"]
    summary = json.dumps({"totalPoints": total, "maxPoints": maximum}, separators=(",", ":"))
    return [
        f"::notice title=Autograding complete::Points {total}/{maximum}",
        f"::notice title=Autograding report::{summary}",
    ]


def github_step(result: dict[str, Any], github_output: Path | None) -> list[str]:
    """Append ``result=<base64>`` to the step's output file (if any); return the notice lines."""
    document = to_exercism_v3(result)
    if github_output is not None:
        with github_output.open("a", encoding="utf-8") as fh:
            fh.write(f"result={encode(document)}\n")
    return notices(document)


def _find_project(lab: str, workspace: str | None) -> str:
    """The shell lines that set ``project``: the folder ``workspace`` names in the learner's
    repository, or else, found when the workflow runs, the repository itself when ``manage.py``
    is at its root (a template made from one lab's starter) or ``labs/<lab>/starter`` (a copy
    of the whole course)."""
    if workspace:
        return f"          project={shlex.quote('../submission/' + workspace.strip('/'))}"
    return "\n".join(
        [
            "          # The repository itself when manage.py is at its root (a template made",
            f"          # from one lab's starter), else labs/{lab}/starter (a copy of the course).",
            '          project="../submission"',
            '          if [ ! -f "$project/manage.py" ] && '
            f'[ -d "$project/labs/{lab}/starter" ]; then',
            f'            project="$project/labs/{lab}/starter"',
            "          fi",
        ]
    )


def workflow(lab: str, course_repo: str, workspace: str | None = None) -> str:
    """The Classroom workflow for ``lab``; the course repository holds the grader and checks."""
    return Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        lab=lab, course_repo=course_repo, find_project=_find_project(lab, workspace)
    )
