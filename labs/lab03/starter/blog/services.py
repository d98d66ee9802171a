"""Writes of the blog app: keyword-only, typed functions, each one transaction.

Views, the admin and management commands call these instead of changing models themselves, so
each rule lives in one place (HackSoftware's Django-Styleguide: `<entity>_<action>`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.core.management import call_command
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .models import (
    BannedTerm,
    Category,
    Post,
    PostStatus,
)

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
GOVERNANCE_FIXTURES = (FIXTURES_DIR / "categories.json", FIXTURES_DIR / "banned_terms.json")


@dataclass(frozen=True)
class GovernanceSeedReport:
    """How many rows of each kind of governance data the database holds after seeding."""

    categories: int
    banned_terms: int


def governance_seed() -> GovernanceSeedReport:
    """Load the governance fixtures (`blog/fixtures/categories.json`, `banned_terms.json`).

    Safe to run any number of times: the fixtures name rows by natural key (a category's slug,
    a banned term's text), so a row that exists is updated in place, never added twice. All or
    nothing: if one row fails, nothing is loaded.
    """
    with transaction.atomic():
        call_command("loaddata", *map(str, GOVERNANCE_FIXTURES), verbosity=0)
    return GovernanceSeedReport(
        categories=Category.objects.count(), banned_terms=BannedTerm.objects.count()
    )


def post_archive(*, posts: QuerySet[Post]) -> int:
    """Archive every post of `posts` that is not archived yet; return how many changed.

    One UPDATE statement, so `updated_at` is set here: auto_now only acts in save().
    """
    with transaction.atomic():
        return posts.exclude(status=PostStatus.ARCHIVED).update(
            status=PostStatus.ARCHIVED, updated_at=timezone.now()
        )
