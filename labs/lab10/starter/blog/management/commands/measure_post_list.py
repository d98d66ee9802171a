"""`python manage.py measure_post_list`: the post list's latency and queries, uncached and cached.

Repeatable: it makes its own rows in a transaction it rolls back, asks the list through
Django's test client (no network, no server, so the numbers are the application's), and prints
the median and the 95th percentile of each configuration with the queries per request. Run it
with the cache you deploy (LIST_CACHE_URL=redis://...) to measure the real thing; the numbers
go in MEASUREMENTS.md.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from accounts.models import Role, User
from blog.cache import CACHE_ALIAS
from blog.models import Category, Post, PostStatus

DUMMY = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}


class Rollback(Exception):
    """Raised to leave the measurement's transaction without keeping its rows."""


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _measure(path: str, runs: int) -> dict[str, float]:
    client = Client()
    client.get(path)  # the first request warms up imports and, when cached, fills the cache
    timings, counts = [], []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
        counts.append(len(queries))
    return {
        "median_ms": statistics.median(timings),
        "p95_ms": _percentile(timings, 0.95),
        "queries": statistics.mean(counts),
    }


class Command(BaseCommand):
    help = "Measure GET /api/posts/ without and with the lists cache: median, p95, queries."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--posts", type=int, default=200, help="published posts to list")
        parser.add_argument("--runs", type=int, default=200, help="requests per configuration")

    def handle(self, *args: Any, **options: Any) -> None:
        results: dict[str, dict[str, float]] = {}
        # The throttles would stop a measurement at 20 requests: their counters go to a cache
        # that forgets (the same for both configurations, so the comparison stays fair).
        unthrottled = {**settings.CACHES, "default": DUMMY}
        try:
            with transaction.atomic():
                author = User.objects.create(username="measure-author", role=Role.AUTHOR)
                category = Category.objects.create(name="Measured", slug="measured")
                Post.objects.bulk_create(
                    Post(title=f"Measured {n}", slug=f"measured-{n}", body="Text.",
                         author=author, category=category, status=PostStatus.PUBLISHED,
                         published_at="2026-01-01T00:00:00Z")
                    for n in range(options["posts"])
                )  # fmt: skip
                with override_settings(CACHES=unthrottled):
                    with override_settings(CACHES={**unthrottled, CACHE_ALIAS: DUMMY}):
                        results["uncached"] = _measure("/api/posts/", options["runs"])
                    caches[CACHE_ALIAS].clear()
                    results["cached"] = _measure("/api/posts/", options["runs"])
                raise Rollback
        except Rollback:
            pass
        for name, row in results.items():
            self.stdout.write(
                f"{name:9} median {row['median_ms']:.2f} ms  p95 {row['p95_ms']:.2f} ms  "
                f"queries {row['queries']:.1f}"
            )
        speedup = results["uncached"]["median_ms"] / results["cached"]["median_ms"]
        self.stdout.write(f"median speed-up: {speedup:.1f}x ({options['posts']} posts)")
