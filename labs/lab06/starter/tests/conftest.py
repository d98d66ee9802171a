"""Fixtures shared by every test module."""

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api_client() -> APIClient:
    """An anonymous DRF test client; requests made with it return parsed JSON via `.json()`."""
    return APIClient()
