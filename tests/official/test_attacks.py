"""The attack corpus (tests/official/attacks.py) graded in official mode.

For every attack: the score never exceeds what the honest base earns in official mode, grading
ends with a definite status within its time limit (no crash, no hang), nothing outside the
staging copy changes, no process survives, and the host listener sees no connection.
"""

from __future__ import annotations

import shutil
import sysconfig
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from grader.course.labgen import generate_lab
from tests.official.attacks import ATTACKS, Attack, Context
from tests.official.conftest import STARTER, Listener, fingerprint, host_ip, survivors
from tests.support import ROOT

pytestmark = pytest.mark.slow

DEFAULT_LIMIT = 120  # lab01's rubric timeout
HANG_MARGIN = 30  # seconds beyond the limit that count as a hang


@pytest.fixture(scope="module")
def bases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bases")
    generate_lab(ROOT / "solutions", "lab01", "solution", folder / "solution")
    shutil.copytree(STARTER, folder / "starter")
    return {"solution": folder / "solution", "starter": folder / "starter"}


@pytest.fixture(scope="module")
def honest(bases: dict[str, Path], official_available: None) -> dict[str, int]:
    """What the untouched bases earn in official mode: the ceiling for every attack on them."""
    from grader.pipeline import GradeOptions, grade_submission

    scores = {
        name: grade_submission(ROOT / "labs" / "lab01", path, GradeOptions(mode="official"))[
            "score"
        ]["points"]
        for name, path in bases.items()
    }
    assert scores == {"solution": 100, "starter": 0}
    return scores


def _watched(root: Path) -> dict[str, Any]:
    """Host state an attack might try to change, outside the staging copy."""
    purelib = Path(sysconfig.get_paths()["purelib"])
    return {
        "hidden": fingerprint(root / "labs" / "lab01" / "hidden"),
        "rubric": (root / "labs" / "lab01" / "rubric.toml").read_bytes(),
        "grader-init": (root / "grader" / "__init__.py").read_bytes(),
        "pth": sorted(p.name for p in purelib.glob("*.pth")),
    }


def test_the_corpus_is_big_enough() -> None:
    assert len(ATTACKS) >= 20
    assert len({a.id for a in ATTACKS}) == len(ATTACKS)


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.id for a in ATTACKS])
def test_attack_is_contained(
    attack: Attack,
    bases: dict[str, Path],
    honest: dict[str, int],
    official: Any,
    listener: Listener,
    tmp_path: Path,
) -> None:
    marker = f"grader-attack-{uuid.uuid4().hex[:12]}"
    outside = tmp_path / "outside"
    outside.mkdir()
    canary = outside / "canary.txt"
    canary.write_text("untouched\n")
    tree = tmp_path / "submission"
    shutil.copytree(bases[attack.base], tree)
    ctx = Context(marker, listener.port, host_ip(), canary, tree, ROOT)
    attack.build(tree, ctx)

    before_tree, before_outside, before_host = (
        fingerprint(tree),
        fingerprint(outside),
        _watched(ROOT),
    )
    started_wall = time.time()
    started = time.monotonic()
    options = {"timeout": attack.timeout} if attack.timeout else {}
    result = official(tree, **options)
    elapsed = time.monotonic() - started

    assert result["status"] in attack.statuses, (result["status"], result["message"])
    assert result["score"]["points"] <= honest[attack.base], result["criteria"]
    assert elapsed < (attack.timeout or DEFAULT_LIMIT) + HANG_MARGIN
    assert fingerprint(tree) == before_tree, "the submission folder itself changed"
    assert fingerprint(outside) == before_outside, "a file outside the submission changed"
    assert _watched(ROOT) == before_host, "the course or the Python runtime changed"
    assert not list(Path("/tmp").glob(f"{marker}*")), "the attack wrote to the host's /tmp"
    time.sleep(0.2)  # let the kernel finish reaping the sandbox's pid namespace
    assert survivors(marker, started_wall) == []
    assert listener.accepted == [], "a sandboxed process connected to the host"
    if attack.check:
        attack.check(result, ctx)
