"""The category and tag lists through HTTP."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from blog.models import Category
from tests.factories import make_tag

pytestmark = pytest.mark.django_db


def test_categories_are_listed_for_anyone(api_client: APIClient, category: Category) -> None:
    response = api_client.get("/api/categories/")

    assert response.status_code == 200
    assert response.json() == [
        {"id": category.pk, "name": "Engineering", "slug": "engineering", "description": ""}
    ]


def test_tags_are_listed_for_anyone(api_client: APIClient) -> None:
    tag = make_tag(name="orm", slug="orm")

    response = api_client.get("/api/tags/")

    assert response.json() == [{"id": tag.pk, "name": "orm", "slug": "orm"}]
