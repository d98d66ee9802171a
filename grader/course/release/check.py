"""``python -m grader.course.release.check``: the learners' edition's own test command.

Run at the root of a built edition (``nox -s tests`` there runs it). For every lab that
``EDITION.json`` lists it checks that the lab is complete (handout, rubric that loads, starter,
public tests) and that the starter is a Django project that starts (``manage.py check``, in a
child process with the starter as its working folder, as a learner runs it). Each problem is one
line saying what is missing and what to do; the exit status is 1 when there is any, else 0.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from grader.course.release.build import EDITION_FILE
from grader.errors import RubricError
from grader.executors.selfcheck import PUBLIC_DIR
from grader.rubric import load_rubric


def check_edition(root: Path) -> list[str]:
    """The problems of the edition at ``root``, one sentence each (empty: all good)."""
    info_file = root / EDITION_FILE
    if not info_file.is_file():
        return [f"{root} is not a learners' edition ({EDITION_FILE} is missing)."]
    labs = json.loads(info_file.read_text(encoding="utf-8")).get("labs") or []
    problems: list[str] = []
    for lab in labs:
        folder = root / "labs" / lab
        for needed in ("README.md", "rubric.toml", "starter/manage.py"):
            if not (folder / needed).is_file():
                problems.append(f"labs/{lab}/{needed} is missing: pull the edition again.")
        try:
            load_rubric(folder / "rubric.toml")
        except RubricError as exc:
            problems.append(f"{lab}: {exc}")
        if not any((folder / PUBLIC_DIR).glob("test_*.py")):
            problems.append(f"labs/{lab}/{PUBLIC_DIR}/ holds no public test: pull it again.")
        if (folder / "starter" / "manage.py").is_file():
            done = subprocess.run(
                [sys.executable, "manage.py", "check"],
                cwd=folder / "starter",
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
                problems.append(f"labs/{lab}/starter: manage.py check failed: {last}")
    return problems


def main() -> int:
    root = Path.cwd()
    problems = check_edition(root)
    for problem in problems:
        print(problem)
    if not problems:
        labs = json.loads((root / EDITION_FILE).read_text(encoding="utf-8"))["labs"]
        print(f"Learners' edition OK: {', '.join(labs)} complete, every starter starts.")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
