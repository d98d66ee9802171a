"""What clients may ask of the post list: filters, search and ordering (django-filter).

`PostFilter` narrows a queryset it is given, so it can never widen it: the view hands it the
posts the caller may see (lab06), and no parameter reaches a row outside them. Every parameter
is checked before any query runs; a value that is not valid makes the whole request a 400
naming the parameter, never an empty answer that hides the mistake.

| parameter | example | meaning |
|---|---|---|
| `author` | `ada` | by this username (unknown: no posts, so no account is revealed) |
| `category` | `engineering` | in the category with this slug (unknown: 400) |
| `tag` | `orm` | with the tag with this slug (unknown: 400) |
| `status` | `published` | in this status (not a status: 400) |
| `published_after` | `2024-09-01` | published at or after (a date: from its first moment) |
| `published_before` | `2024-09-30T18:00Z` | published at or before (a date: to its last moment) |
| `search` | `query planner` | full-text search of title and body (`search_posts`) |
| `ordering` | `-published_at,title` | by `published_at`, `created_at`, `title` only |
"""

from __future__ import annotations

import datetime
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from .models import Post

ORDERING_FIELDS = ("published_at", "created_at", "title")
# Every ordering ends with this, so rows whose sort values are equal still come in one fixed
# order: without it, the database may return them in any order, and differently for each page.
TIE_BREAKER = "-id"


class DateOrDateTimeField(forms.Field):
    """An ISO 8601 date (`2024-09-17`) or date and time (`2024-09-17T08:30:00Z`)."""

    default_error_messages = {
        "invalid": "Enter an ISO 8601 date (2024-09-17) or date and time (2024-09-17T08:30:00Z)."
    }

    def to_python(self, value: Any) -> datetime.date | datetime.datetime | None:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        try:
            # The date first: parse_datetime() would read "2024-09-30" as its midnight, and
            # published_before=2024-09-30 would then leave out the rest of that day.
            found: datetime.date | datetime.datetime | None = parse_date(text)
            if found is None:
                found = parse_datetime(text)
        except ValueError:  # well formed, but no such day or time (2024-02-30)
            found = None
        if found is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if isinstance(found, datetime.datetime) and timezone.is_naive(found):
            found = timezone.make_aware(found, datetime.UTC)
        return found


class DateOrDateTimeFilter(django_filters.Filter):
    field_class = DateOrDateTimeField


class OrderingField(forms.CharField):
    """A comma-separated list of allowed field names, each optionally prefixed with `-`."""

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value)
        return [part.strip() for part in text.split(",") if part.strip()]

    def validate(self, value: Any) -> None:
        """Refuse the whole ordering when one of its terms is not an allowed field."""
        # TODO(lab07): refuse any term not in ORDERING_FIELDS, naming the allowed fields
        # (labs/lab07/README.md, step 5).


class AllowListOrderingFilter(django_filters.Filter):
    """`?ordering=` that refuses any field not in ORDERING_FIELDS (DRF's OrderingFilter and
    django-filter's would drop or reject them without saying which fields are allowed)."""

    field_class = OrderingField

    def filter(self, qs: QuerySet[Post], value: list[str]) -> QuerySet[Post]:
        # TODO(lab07): sort by the terms, then by TIE_BREAKER (labs/lab07/README.md, step 5).
        return qs


def search_posts(queryset: QuerySet[Post], words: str) -> QuerySet[Post]:
    """Posts of `queryset` that match `words` in their title or body.

    PostgreSQL: full-text search (`websearch` syntax, English stemming: "publishing" finds
    "published"), best matches first, a title match above a body match. Other databases (SQLite
    in development): every word must occur in the title or the body, ignoring case; no stemming
    and no rank, so the list keeps its usual order.
    """
    # TODO(lab07): full-text search on PostgreSQL, every word in title or body elsewhere
    # (labs/lab07/README.md, step 4).
    return queryset


class PostFilter(django_filters.FilterSet):
    """The query parameters of GET /api/posts/ (the table in this module's docstring)."""

    # TODO(lab07): author, category, tag, status, published_after, published_before and
    # search (labs/lab07/README.md, step 4), then ordering (step 5).

    class Meta:
        model = Post
        fields: list[str] = []
