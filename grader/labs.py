"""Where the course's labs are, and which ones exist.

A lab exists when ``labs/<lab>/rubric.toml`` exists: that holds in both editions (the learners'
edition has no ``solutions/``). The repository root is found from this package's location when
the grader runs from a checkout, or from the working directory when it is installed elsewhere.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from grader.errors import UsageError

LAB_NAME = re.compile(r"^(lab\d\d|capstone)$")


def find_course_root(start: Path | None = None) -> Path:
    """Return the course repository root: the nearest folder holding ``labs/`` and ``grader/``.

    ``GRADER_COURSE_ROOT`` overrides the search (used by tests that build a course in a temp dir).
    """
    override = os.environ.get("GRADER_COURSE_ROOT")
    if override:
        return Path(override).resolve()
    candidates = [Path(__file__).resolve().parent.parent]
    here = (start or Path.cwd()).resolve()
    candidates += [here, *here.parents]
    for candidate in candidates:
        if (candidate / "labs").is_dir() and (candidate / "grader").is_dir():
            return candidate
    raise UsageError(
        "Could not find the course repository (a folder with labs/ and grader/). "
        "Run the grader from inside your clone of the course."
    )


def known_labs(root: Path) -> list[str]:
    """Lab ids with a rubric, in teaching order (lab01..lab10, then capstone)."""
    labs_dir = root / "labs"
    found = (
        [
            p.name
            for p in labs_dir.iterdir()
            if p.is_dir() and LAB_NAME.match(p.name) and (p / "rubric.toml").is_file()
        ]
        if labs_dir.is_dir()
        else []
    )
    return sorted(found, key=lambda name: (name == "capstone", name))


def resolve_lab(root: Path, lab: str) -> Path:
    """Return ``labs/<lab>/`` or raise a one-line UsageError listing the labs there are."""
    labs = known_labs(root)
    normalised = lab.strip().lower()
    if re.fullmatch(r"\d{1,2}", normalised):  # `grade 7` means lab07
        normalised = f"lab{int(normalised):02d}"
    if normalised not in labs:
        listing = ", ".join(labs) if labs else "none (no labs/*/rubric.toml found)"
        raise UsageError(f"Unknown lab {lab!r}. Labs you can grade: {listing}.")
    return root / "labs" / normalised


def default_workspace(lab_dir: Path) -> Path:
    """The learner's own workspace for a lab: the generated starter they edit in place."""
    return lab_dir / "starter"
