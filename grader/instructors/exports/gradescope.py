"""Gradescope: ``results.json`` from a result, the autograder bundle, and what it runs.

Follows the specification in Gradescope's ``autograder_samples`` (``docs/specs.md``):

- :func:`to_gradescope`: one test per rubric criterion (``name``, ``number``, ``score``,
  ``max_score``, ``status``, ``output`` in Markdown, ``tags``, ``visibility``), a top-level
  ``score`` equal to the criteria's sum, ``execution_time``, ``output`` (a summary) and
  ``extra_data`` naming the rubric version and submission digest.
- :func:`build_bundle`: a zip whose root holds ``setup.sh`` (run once to build the image) and
  ``run_autograder`` (run per submission from ``/autograder``), plus the grader, the lab's rubric
  and hidden checks, and the project file to install them from.
- :func:`run_autograder`: grade ``<root>/submission`` and write ``<root>/results/results.json``,
  whatever happens (Gradescope's best practice: always write a result, even a failing one).
  ``root`` is ``/autograder`` on Gradescope; ``GRADESCOPE_ROOT`` moves it (the course's tests run
  the real ``run_autograder`` in a temporary directory laid out the same way).
"""

from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path
from typing import Any

from grader.instructors.exports.text import md_authored, md_fence, md_text

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)  # fixed, so the same sources give the same bundle bytes

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, while building the autograder image. Choose the Ubuntu 24.04
# base image in the assignment's autograder settings: the course needs Python 3.11 or newer.
set -euo pipefail
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \\
  || { echo "Python 3.11+ is needed: pick the Ubuntu 24.04 base image" >&2; exit 1; }
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --upgrade pip
/autograder/venv/bin/pip install "/autograder/source[lab]"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission, from /autograder. It grades
# /autograder/submission against {lab}'s rubric and writes /autograder/results/results.json.
# GRADESCOPE_ROOT (instead of /autograder) and GRADER_PYTHON (instead of the image's venv) let
# the course's tests run this very script in a temporary directory.
set -uo pipefail
root="${{GRADESCOPE_ROOT:-/autograder}}"
python="${{GRADER_PYTHON:-$root/venv/bin/python}}"
mkdir -p "$root/results"
cd "$root/source" || exit 1
"$python" -m grader export gradescope-run --lab {lab} --root "$root" --visibility {visibility}
status=$?
if [ ! -s "$root/results/results.json" ]; then
  # The grader could not even start: Gradescope still gets a result that says so.
  message="The autograder could not start (exit $status); please tell your instructor."
  printf '{{"score": 0, "output": "%s", "tests": []}}\n' "$message" \
    > "$root/results/results.json"
fi
exit 0
"""


def _test_output(criterion: dict[str, Any], result: dict[str, Any]) -> str:
    if result["status"] != "graded":
        return "Not checked: the submission could not be graded (see the summary above)."
    review = criterion.get("review")
    if review:
        return f"Scored by your instructor ({md_text(review['by'])}): {md_text(review['reason'])}"
    if criterion["status"] == "awaiting_instructor":
        return "Awaiting your instructor (demo or code review): " + md_authored(
            criterion["feedback"] or ""
        )
    if criterion["status"] == "passed":
        return "Passed."
    parts = [md_authored(criterion["feedback"] or "")]
    if criterion["detail"]:
        parts += ["What the check observed:", md_fence(criterion["detail"])]
    return "\n\n".join(parts)


def to_gradescope(result: dict[str, Any], *, visibility: str = "visible") -> dict[str, Any]:
    """The Gradescope ``results.json`` document for ``result``."""
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}")
    score = result["score"]
    lab = result["lab"]
    if result["status"] == "graded":
        summary = (
            f"**{lab['id']}: {md_authored(lab['title'])}**: {score['points']}/"
            f"{score['max_points']} points."
        )
    else:
        summary = (
            f"**Your submission could not be graded ({result['status']}).** No criterion was "
            "checked, so none scored. What happened:\n\n" + md_fence(result["message"] or "")
        )
    tests = [
        {
            "name": c["title"],
            "number": str(number),
            "score": float(c["points"]),
            "max_score": float(c["max_points"]),
            "status": "passed" if c["status"] == "passed" else "failed",
            "output": _test_output(c, result),
            "output_format": "md",
            "tags": [c["id"], f"outcome-{c['outcome']}"],
            "visibility": visibility,
        }
        for number, c in enumerate(result["criteria"], start=1)
    ]
    return {
        "score": float(score["points"]),
        "execution_time": round(float(result["timings"].get("total", 0.0)), 2),
        "output": summary,
        "output_format": "md",
        "test_output_format": "md",
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            "lab": lab["id"],
            "rubric_version": lab["rubric_version"],
            "rubric_digest": lab["rubric_digest"],
            "submission_digest": result["submission"]["digest"],
            "status": result["status"],
            "schema_version": result["schema_version"],
        },
    }


def failure_results(message: str) -> dict[str, Any]:
    """``results.json`` for when grading itself failed: score 0 and the reason, visibly."""
    return {
        "score": 0.0,
        "output": f"The autograder could not grade this submission: {message}. Please tell your "
        "instructor; this is not a verdict on your work.",
        "output_format": "text",
        "tests": [],
    }


def _bundle_files(course_root: Path, lab: str) -> list[tuple[str, Path]]:
    """``(archive name, source path)`` of everything the bundle ships besides the scripts."""
    lab_dir = course_root / "labs" / lab
    files = [("pyproject.toml", course_root / "pyproject.toml")]
    files += [("README.md", course_root / "README.md")]  # pyproject's `readme`: pip needs it
    for path in sorted((course_root / "grader").rglob("*")):
        rel = path.relative_to(course_root)
        if path.is_file() and "__pycache__" not in rel.parts and path.suffix != ".pyc":
            files.append((rel.as_posix(), path))
    files.append((f"labs/{lab}/rubric.toml", lab_dir / "rubric.toml"))
    for path in sorted((lab_dir / "hidden").rglob("*")):
        rel = path.relative_to(course_root)
        if (
            path.is_file()
            and "__pycache__" not in rel.parts
            and path.suffix != ".pyc"
            and not path.name.startswith("mutants")  # proofs, not grading
        ):
            files.append((rel.as_posix(), path))
    return files


def _executable(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, _ZIP_DATE)
    info.external_attr = (stat.S_IFREG | 0o755) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def build_bundle(
    course_root: Path, lab: str, dest: Path, *, visibility: str = "visible"
) -> list[str]:
    """Write the autograder zip for ``lab`` to ``dest``; return the names it holds.

    Raises ``FileNotFoundError`` when this copy of the course has no hidden checks for ``lab``
    (a learners' edition cannot build a bundle).
    """
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}")
    if not (course_root / "labs" / lab / "hidden").is_dir():
        raise FileNotFoundError(f"labs/{lab}/hidden is missing: build bundles from the course")
    dest.parent.mkdir(parents=True, exist_ok=True)
    names: list[str] = []
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(_executable("setup.sh"), SETUP_SH)
        zf.writestr(
            _executable("run_autograder"), RUN_AUTOGRADER.format(lab=lab, visibility=visibility)
        )
        names += ["setup.sh", "run_autograder"]
        for name, path in _bundle_files(course_root, lab):
            info = zipfile.ZipInfo(name, _ZIP_DATE)
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
            names.append(name)
    return names


def run_autograder(course_root: Path, lab: str, root: Path, *, visibility: str) -> dict[str, Any]:
    """Grade ``root/submission`` and write ``root/results/results.json``; return what was written.

    Any failure, including a bug in the grader, still writes a results.json (score 0, the
    reason), because Gradescope shows nothing at all for a run that wrote none.
    """
    from grader.pipeline import grade_submission
    from grader.result import write_json
    from grader.staging import locate_project

    out = root / "results" / "results.json"
    try:
        submission = locate_project(root / "submission", lab)
        result = grade_submission(course_root / "labs" / lab, submission)
        document = to_gradescope(result, visibility=visibility)
        write_json(root / "results" / "blogcraft-result.json", result)  # for the instructor
    except Exception as exc:  # whatever it was, Gradescope must still get a result
        document = failure_results(str(exc) or type(exc).__name__)
    write_json(out, document)
    return document


def load(path: Path) -> dict[str, Any]:
    """Read a results.json back (used by tests and the instructor's spot checks)."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
