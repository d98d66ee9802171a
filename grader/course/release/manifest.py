"""What the learners' edition leaves out, as data: one glob pattern per rule, with its reason.

Patterns are POSIX paths relative to the repository root. ``*`` matches within one path segment,
``**`` any number of segments (``**/`` at the start also matches the root). Everything tracked by
git that no rule matches is published, so a new top-level file is public unless a rule says
otherwise: add the rule here, with the reason a reviewer needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache


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
    Rule(
        "templates/copier/capstone/**",
        "the capstone template ships working code of earlier labs (lab01's health endpoint and "
        "settings), so it would answer them; hand it out when the capstone starts",
    ),
)


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
