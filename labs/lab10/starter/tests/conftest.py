"""Fixtures shared by every test module."""

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api_client() -> APIClient:
    """An anonymous DRF test client; requests made with it return parsed JSON via `.json()`."""
    return APIClient()


@pytest.fixture(autouse=True)
def _empty_caches() -> None:
    """Every test starts with empty caches: throttle counters never leak between tests."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()
