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
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from .models import Category, Post, PostStatus, Tag

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
        unknown = [term for term in value if term.removeprefix("-") not in ORDERING_FIELDS]
        if unknown:
            allowed = ", ".join(ORDERING_FIELDS)
            raise forms.ValidationError(
                f"Cannot order by {', '.join(unknown)}. Order by {allowed}, each optionally "
                "prefixed with - for descending, separated by commas.",
                code="invalid_ordering",
            )


class AllowListOrderingFilter(django_filters.Filter):
    """`?ordering=` that refuses any field not in ORDERING_FIELDS (DRF's OrderingFilter and
    django-filter's would drop or reject them without saying which fields are allowed)."""

    field_class = OrderingField

    def filter(self, qs: QuerySet[Post], value: list[str]) -> QuerySet[Post]:
        if not value:
            return qs
        return qs.order_by(*value, TIE_BREAKER)


def search_posts(queryset: QuerySet[Post], words: str) -> QuerySet[Post]:
    """Posts of `queryset` that match `words` in their title or body.

    PostgreSQL: full-text search (`websearch` syntax, English stemming: "publishing" finds
    "published"), best matches first, a title match above a body match. Other databases (SQLite
    in development): every word must occur in the title or the body, ignoring case; no stemming
    and no rank, so the list keeps its usual order.
    """
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        vector = SearchVector("title", weight="A", config="english") + SearchVector(
            "body", weight="B", config="english"
        )
        query = SearchQuery(words, search_type="websearch", config="english")
        # Filter on the match (@@), not on the rank: ts_rank is never quite 0, even for a
        # post that does not match at all.
        return (
            queryset.annotate(search_vector=vector, search_rank=SearchRank(vector, query))
            .filter(search_vector=query)
            .order_by("-search_rank", TIE_BREAKER)
        )
    for word in words.split():
        queryset = queryset.filter(Q(title__icontains=word) | Q(body__icontains=word))
    return queryset


class PostFilter(django_filters.FilterSet):
    """The query parameters of GET /api/posts/ (the table in this module's docstring)."""

    author = django_filters.CharFilter(field_name="author__username")
    category = django_filters.ModelChoiceFilter(
        field_name="category", to_field_name="slug", queryset=Category.objects.all()
    )
    tag = django_filters.ModelChoiceFilter(
        field_name="tags", to_field_name="slug", queryset=Tag.objects.all()
    )
    status = django_filters.ChoiceFilter(choices=PostStatus.choices)
    published_after = DateOrDateTimeFilter(method="filter_published_after")
    published_before = DateOrDateTimeFilter(method="filter_published_before")
    # Declared in this order on purpose: search orders by rank, an explicit ordering wins.
    search = django_filters.CharFilter(method="filter_search")
    ordering = AllowListOrderingFilter()

    class Meta:
        model = Post
        fields: list[str] = []

    def filter_published_after(
        self, queryset: QuerySet[Post], name: str, value: datetime.date
    ) -> QuerySet[Post]:
        if isinstance(value, datetime.datetime):
            return queryset.filter(published_at__gte=value)
        return queryset.filter(published_at__date__gte=value)

    def filter_published_before(
        self, queryset: QuerySet[Post], name: str, value: datetime.date
    ) -> QuerySet[Post]:
        if isinstance(value, datetime.datetime):
            return queryset.filter(published_at__lte=value)
        return queryset.filter(published_at__date__lte=value)

    def filter_search(self, queryset: QuerySet[Post], name: str, value: str) -> QuerySet[Post]:
        return search_posts(queryset, value)
