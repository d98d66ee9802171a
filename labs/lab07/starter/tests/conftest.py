"""Fixtures shared by every test module."""

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api_client() -> APIClient:
    """An anonymous DRF test client; requests made with it return parsed JSON via `.json()`."""
    return APIClient()


# TODO(lab07): empty every cache before each test, or throttle counts leak from one test
# into the next (labs/lab07/README.md, step 1).
