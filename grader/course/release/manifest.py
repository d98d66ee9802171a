"""What the learners' edition leaves out, as data: one glob pattern per rule, with its reason.

Patterns are POSIX paths relative to the repository root. ``*`` matches within one path segment,
``**`` any number of segments (``**/`` at the start also matches the root). Everything tracked by
git that no rule matches is published, so a new top-level file is public unless a rule says
otherwise: add the rule here, with the reason a reviewer needs.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True)
class Rule:
    """One exclusion: ``pattern`` (a glob over repository paths) and why it is excluded."""

    pattern: str
    reason: str


EXCLUDED: tuple[Rule, ...] = (
    Rule("solutions/**", "the reference implementation: every lab's answers"),
    Rule("labs/*/hidden/**", "the hidden rubric checks and the mutants they are proven against"),
    Rule("**/mutants*.toml", "mutants are plausible wrong answers, i.e. hints to the checks"),
    Rule("**/mutants/**", "mutants are plausible wrong answers, i.e. hints to the checks"),
    Rule("docs/authors/**", "course-author pages: they document the answer markers"),
    Rule("tests/**", "the course's own tests exercise solutions/ and the hidden checks"),
    Rule("benchmarks/**", "benchmarks grade the reference solution"),
    Rule(".ci/**", "the instructors' CI runs the course's own tests"),
    Rule(
        "templates/copier/new-lab/**",
        "the course-author template for new labs: hidden-check and mutant skeletons, markers",
    ),
)


# Files that give away labs' answers, published once the edition releases the lab whose starter
# holds those answers anyway (lab N's starter is lab N-1's solution); None: only when the edition
# releases every lab. Until then they are left out, and the leak scan would catch them if not.
RELEASED_WITH: tuple[tuple[str, str | None, str], ...] = (
    (
        "templates/settings/**",
        None,
        "the blog API's settings at the end of the track: answers of every lab, lab01's first",
    ),
    (
        "templates/logging/**",
        None,
        "day 10's observability module, with code of lab07's answer (api/versioning.py)",
    ),
    (
        # The capstone's handout starts with `copier copy templates/copier/capstone`: an edition
        # that releases the capstone must carry it, one that does not must not.
        "templates/copier/capstone/**",
        None,
        "the capstone template ships working code of every lab (lab01's health endpoint and "
        "settings on); it starts the capstone",
    ),
)


def lab_ids(root: Path) -> list[str]:
    """The course's labs in teaching order: those of ``solutions/labs.toml`` that have a
    ``labs/<lab>/`` folder, else every ``labs/*/rubric.toml`` folder sorted by name."""
    labs_toml = root / "solutions" / "labs.toml"
    order: list[str] = []
    if labs_toml.is_file():
        order = [str(x) for x in tomllib.loads(labs_toml.read_text(encoding="utf-8"))["labs"]]
    present = sorted(p.parent.name for p in root.glob("labs/*/rubric.toml"))
    return [lab for lab in order if lab in present] + [lab for lab in present if lab not in order]


def unreleased_rules(root: Path, labs: Collection[str]) -> tuple[Rule, ...]:
    """Rules leaving out what an edition releasing only ``labs`` must not have: the folders of
    the other labs, their day pages (``docs/days/dayNN.md`` of labNN), and RELEASED_WITH files
    whose lab is not released."""
    rules: list[Rule] = []
    for lab in lab_ids(root):
        if lab in labs:
            continue
        rules.append(Rule(f"labs/{lab}/**", f"{lab} is not released in this edition"))
        if lab.startswith("lab") and lab[3:].isdigit():
            day = f"docs/days/day{lab[3:]}.md"
            rules.append(Rule(day, f"the day page of {lab}, which is not released"))
    every = set(lab_ids(root)) <= set(labs)
    for pattern, with_lab, reason in RELEASED_WITH:
        if not (every if with_lab is None else with_lab in labs):
            when = "once every lab is released" if with_lab is None else f"with {with_lab}"
            rules.append(Rule(pattern, f"{reason}; published {when}"))
    return tuple(rules)


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + r"\Z")


def matches(pattern: str, path: str) -> bool:
    """Whether the POSIX relative ``path`` matches the glob ``pattern``."""
    return _regex(pattern).match(path) is not None


def exclusion(path: str, rules: tuple[Rule, ...] = EXCLUDED) -> Rule | None:
    """The first rule that keeps ``path`` out of the learners' edition, or None."""
    return next((rule for rule in rules if matches(rule.pattern, path)), None)
