"""Rubric files are validated with messages that name the problem."""

from __future__ import annotations

import pytest

from grader.errors import RubricError
from grader.rubric import load_rubric
from tests.support import ROOT

GOOD = """
lab = "lab42"
title = "t"
version = "1"
[[criteria]]
id = "one"
title = "One"
points = 5
outcome = 2
checks = ["test_a.py::test_x"]
feedback = "do x"
"""


def write(tmp_path, text):
    lab = tmp_path / "lab42"
    lab.mkdir()
    (lab / "rubric.toml").write_text(text)
    return lab / "rubric.toml"


def test_real_lab01_rubric_loads():
    rubric = load_rubric(ROOT / "labs" / "lab01" / "rubric.toml")
    assert len(rubric.criteria) >= 5
    assert rubric.max_points == 100
    assert all(c.feedback for c in rubric.criteria)


def test_good_rubric(tmp_path):
    rubric = load_rubric(write(tmp_path, GOOD))
    assert rubric.check_ids == ("test_a.py::test_x",)
    assert rubric.digest.startswith("sha256:")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("points = 5", "points = 0", "points must be positive"),
        ("points = 5", "points = true", "'points' must be int"),
        ("outcome = 2", "outcome = 9", "outcome must be 1..6"),
        ('id = "one"', 'id = "One Two"', "kebab-case"),
        ('checks = ["test_a.py::test_x"]', "checks = []", "non-empty list"),
        ('feedback = "do x"', "", "missing required key 'feedback'"),
        ('lab = "lab42"', 'lab = "lab43"', "but the file is in lab42/"),
        ('feedback = "do x"', 'feedback = "do x"\ncolour = "red"', "unknown keys"),
        ("[[criteria]]", "[[criteria]\n", "not valid TOML"),
    ],
)
def test_bad_rubrics_are_named(tmp_path, old, new, message):
    with pytest.raises(RubricError, match=message.replace("(", r"\(").replace(".", r"\.")):
        load_rubric(write(tmp_path, GOOD.replace(old, new)))
