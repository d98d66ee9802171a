"""lab02 hidden checks: `python manage.py seed_governance` loads the governance fixtures, and can
run again without duplicating or failing. Grader fixtures only."""

from __future__ import annotations

import json

FIXTURES = {"blog/fixtures/categories.json": "blog.category", "blog/fixtures/banned_terms.json": "blog.bannedterm"}


def _fixture_values(project, path, field):
    file = project.root / path
    assert file.is_file(), f"{path} is missing: it came with the starter; restore it"
    try:
        rows = json.loads(file.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise AssertionError(f"{path} is not valid JSON: {exc}") from None
    return {row["fields"][field] for row in rows if row.get("model", "").lower() == FIXTURES[path]}


def _seed(data, attempt):
    result = data.command("seed_governance")
    assert result["ok"], f"`python manage.py seed_governance` failed on its {attempt} run: {result['error']}"


def test_seed_governance_loads_categories_and_banned_terms(data, project):
    slugs = _fixture_values(project, "blog/fixtures/categories.json", "slug")
    terms = _fixture_values(project, "blog/fixtures/banned_terms.json", "term")
    _seed(data, "first")
    loaded_slugs = {row["slug"] for row in data.values("blog.Category", "slug")}
    loaded_terms = {row["term"] for row in data.values("blog.BannedTerm", "term")}
    assert slugs and slugs <= loaded_slugs, f"after seeding, categories {sorted(slugs - loaded_slugs)} are missing"
    assert terms and terms <= loaded_terms, f"after seeding, banned terms {sorted(terms - loaded_terms)} are missing"


def test_seed_governance_can_run_again(data):
    _seed(data, "first")
    counts = (data.count("blog.Category"), data.count("blog.BannedTerm"))
    _seed(data, "second")
    again = (data.count("blog.Category"), data.count("blog.BannedTerm"))
    assert again == counts, (
        f"seeding twice changed the counts of categories and banned terms from {counts} to {again}; "
        "give Category and BannedTerm natural keys so loaddata updates rows instead of adding them"
    )
