"""Factories for the tests: valid rows with sensible defaults, one keyword away from a variant.

Models are looked up in the app registry by name instead of being imported, so in a project
where a model is still missing each test that needs it fails on its own, naming the model,
rather than the whole module failing to import.
"""

from __future__ import annotations

import itertools
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import Model
from django.utils import timezone

_serial = itertools.count(1)


def unique(prefix: str) -> str:
    """`prefix` plus a number no other call returns, for names and slugs that must not clash."""
    return f"{prefix}-{next(_serial)}"


def make_user(**fields: Any) -> Any:
    """A user (the project's user model); a reader unless `role` says otherwise."""
    fields.setdefault("username", unique("user"))
    return get_user_model().objects.create(**fields)


def make_category(**fields: Any) -> Model:
    name = fields.pop("name", unique("Category"))
    return apps.get_model("blog", "Category").objects.create(
        name=name, slug=fields.pop("slug", name.lower()), **fields
    )


def make_tag(**fields: Any) -> Model:
    name = fields.pop("name", unique("tag"))
    return apps.get_model("blog", "Tag").objects.create(
        name=name, slug=fields.pop("slug", name.lower()), **fields
    )


def make_post(**fields: Any) -> Model:
    """A draft by a new author in a new category, unless the keywords say otherwise."""
    fields.setdefault("title", "A post about constraints")
    fields.setdefault("slug", unique("post"))
    fields.setdefault("body", "Databases keep promises that code forgets.")
    if "author" not in fields:
        fields["author"] = make_user(role="author")
    if "category" not in fields:
        fields["category"] = make_category()
    if fields.get("status") == "published":
        fields.setdefault("published_at", timezone.now())
    return apps.get_model("blog", "Post").objects.create(**fields)


def make_comment(**fields: Any) -> Model:
    fields.setdefault("body", "Thanks, this helped.")
    if "post" not in fields:
        fields["post"] = make_post()
    if "author" not in fields:
        fields["author"] = make_user()
    return apps.get_model("blog", "Comment").objects.create(**fields)
