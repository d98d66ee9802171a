"""`python manage.py seed_governance`: loads the governance fixtures, and can run again."""

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "blog" / "fixtures"


def fixture_rows(name: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return rows


def seed() -> str:
    out = StringIO()
    call_command("seed_governance", stdout=out)
    return out.getvalue()


def test_seeding_loads_every_category_and_banned_term() -> None:
    seed()

    Category = apps.get_model("blog", "Category")
    BannedTerm = apps.get_model("blog", "BannedTerm")
    expected_slugs = {row["fields"]["slug"] for row in fixture_rows("categories.json")}
    expected_terms = {row["fields"]["term"] for row in fixture_rows("banned_terms.json")}
    assert set(Category.objects.values_list("slug", flat=True)) == expected_slugs
    assert set(BannedTerm.objects.values_list("term", flat=True)) == expected_terms


def test_seeding_twice_changes_nothing() -> None:
    seed()
    Category = apps.get_model("blog", "Category")
    BannedTerm = apps.get_model("blog", "BannedTerm")
    counts = (Category.objects.count(), BannedTerm.objects.count())

    seed()

    assert (Category.objects.count(), BannedTerm.objects.count()) == counts


def test_seeding_restores_an_edited_category_in_place() -> None:
    seed()
    Category = apps.get_model("blog", "Category")
    category = Category.objects.get(slug="engineering")
    Category.objects.filter(pk=category.pk).update(description="edited by hand")

    seed()

    category.refresh_from_db()
    assert category.description != "edited by hand"
    assert Category.objects.filter(slug="engineering").count() == 1


def test_seeding_reports_what_it_loaded() -> None:
    output = seed()

    assert "categories" in output
    assert "banned terms" in output
