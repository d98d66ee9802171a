"""Which failing criterion a learner should work on first, and which failures wait on another.

Reads only criteria of a result document (dicts as :mod:`grader.result` writes them), so every
renderer (terminal, feedback pages) orders and groups the same way. A criterion's ``after`` (from
the rubric, :mod:`grader.rubric`) names the criteria it builds on; documents older than schema
1.3 have none, and then the order is the handout's step order, then the rubric's.

Two rules, both about presentation only (no score depends on them):

* **Work order**: a criterion comes after every criterion it builds on; among those free to go
  next, the one whose handout step (``see = "README.md#step-2-…"``) comes first, then rubric
  order. So lab07's starter is sent to step 2 (versions), which step 3 (pages) needs.
* **Waiting**: a failing criterion that builds on a failing criterion fails, as far as the
  learner can act on it, for that one's reason: renderers show it as waiting on the root cause
  (the first failing criterion down its ``after`` chain) instead of repeating the same symptom.
  One that builds only on passing criteria fails for a reason of its own and is shown in full.
"""

from __future__ import annotations

import re
from typing import Any

_STEP = re.compile(r"#step-(\d+)\b")
FAILED = "failed"


def handout_step(see: str | None) -> int | None:
    """The step number of a ``see`` link such as ``README.md#step-3-pages``; None without one."""
    match = _STEP.search(see or "")
    return int(match.group(1)) if match else None


def work_order(criteria: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The criteria, each after those it builds on; ties by handout step, then rubric order.

    An ``after`` id the document does not contain is ignored (a renderer must not fail on a
    hand-edited or foreign result); a loop, which the rubric loader refuses, cannot hang here
    either: what is left when no criterion is free goes last, in rubric order.
    """
    by_id = {c["id"]: c for c in criteria}
    index = {c["id"]: i for i, c in enumerate(criteria)}
    waits = {c["id"]: {a for a in c.get("after") or () if a in by_id} for c in criteria}

    def key(cid: str) -> tuple[int, int]:
        step = handout_step(by_id[cid].get("see"))
        return (step if step is not None else 10**6, index[cid])

    done: list[str] = []
    pending = set(by_id)
    while pending:
        free = [cid for cid in pending if not waits[cid] - set(done)]
        if not free:  # a loop: refused when rubrics load, tolerated here
            done.extend(sorted(pending, key=index.__getitem__))
            break
        chosen = min(free, key=key)
        done.append(chosen)
        pending.remove(chosen)
    return [by_id[cid] for cid in done]


def waiting_on(criteria: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """For each failing criterion that builds on a failing one: the failure it waits on.

    The value is the root cause: the failing criterion reached by following failing ``after``
    entries until one builds on no failing criterion (the first such entry in work order).
    """
    ordered = work_order(criteria)
    position = {c["id"]: i for i, c in enumerate(ordered)}
    by_id = {c["id"]: c for c in criteria}
    roots: dict[str, dict[str, Any]] = {}
    for c in ordered:  # dependencies come first, so their roots are already known
        if c["status"] != FAILED:
            continue
        failing = [by_id[a] for a in c.get("after") or () if a in by_id]
        failing = [d for d in failing if d["status"] == FAILED]
        if failing:
            first = min(failing, key=lambda d: position[d["id"]])
            roots[c["id"]] = roots.get(first["id"], first)
    return roots


def first_to_fix(criteria: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The failing criterion to start with: first in work order, waiting on nothing."""
    waiting = waiting_on(criteria)
    for c in work_order(criteria):
        if c["status"] == FAILED and c["id"] not in waiting:
            return c
    return None
