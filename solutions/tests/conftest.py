"""Fixtures shared by every test module."""

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api_client() -> APIClient:
    """An anonymous DRF test client; requests made with it return parsed JSON via `.json()`."""
    return APIClient()
# BEGIN LAB07


@pytest.fixture(autouse=True)
def _empty_caches() -> None:
    """Every test starts with empty caches: throttle counters never leak between tests."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()
# STUB LAB07
#
#
# # TODO(lab07): empty every cache before each test, or throttle counts leak from one test
# # into the next (labs/lab07/README.md, step 1).
# END LAB07
