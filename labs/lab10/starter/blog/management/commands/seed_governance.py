"""`python manage.py seed_governance`: load the categories and banned terms every site needs."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from blog.services import governance_seed


class Command(BaseCommand):
    help = (
        "Load the content-governance data (categories and banned terms) from blog/fixtures/. "
        "Safe to run again: existing rows are updated, never duplicated."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = governance_seed()
        self.stdout.write(
            self.style.SUCCESS(
                f"Governance data loaded: {report.categories} categories, "
                f"{report.banned_terms} banned terms."
            )
        )
