"""The published result schema accepts what the grader writes and rejects what it must not."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest

from grader.result import SCHEMA_PATH, SCHEMA_VERSION, validate_result


@pytest.fixture(scope="module")
def graded(lab01_solution):
    from grader.pipeline import grade_submission
    from tests.support import ROOT

    return grade_submission(ROOT / "labs" / "lab01", lab01_solution)


def test_schema_is_valid_draft_2020_12():
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)


def test_a_real_result_validates(graded):
    validate_result(graded)
    assert graded["schema_version"] == SCHEMA_VERSION == "1.3"
    assert graded["submission"]["digest"].startswith("sha256:")
    assert graded["score"]["awaiting_points"] == 0  # lab01 has no manual criterion
    assert {c["kind"] for c in graded["criteria"]} == {"pytest"}


def test_a_document_of_an_earlier_version_still_validates(graded):
    older = copy.deepcopy(graded)  # 1.2 had no criterion kind and no awaiting_points
    older["schema_version"] = "1.2"
    del older["score"]["awaiting_points"]
    for criterion in older["criteria"]:
        del criterion["kind"]
    validate_result(older)


@pytest.mark.parametrize(
    ("mutate", "why"),
    [
        (lambda r: r.pop("criteria"), "criteria are required"),
        (lambda r: r.update(status="done"), "status is an enum"),
        (lambda r: r.update(status="error", message=None), "an error needs a message"),
        (lambda r: r["criteria"][0].update(status="maybe"), "criterion status is an enum"),
        (lambda r: r["score"].update(percent=120), "percent is at most 100"),
        (lambda r: r.update(extra=1), "no unknown top-level keys"),
        (lambda r: r["score"].update(points=None), "only a self-check scores nothing"),
        (lambda r: r["criteria"][0].update(points=None), "only official_only has no points"),
        (
            lambda r: r["criteria"][0].update(review={"points": 1, "by": "x", "at": "t"}),
            "a review needs its reason",
        ),
        (lambda r: r["score"].update(awaiting_points=-1), "awaiting points are not negative"),
    ],
)
def test_schema_rejects(graded, mutate, why):
    bad = copy.deepcopy(graded)
    mutate(bad)
    with pytest.raises(jsonschema.ValidationError):
        validate_result(bad)
