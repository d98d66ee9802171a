"""Settings for the test suite (pytest): fast, deterministic, never reading a `.env` file."""

from .base import *

# https://docs.djangoproject.com/en/5.2/ref/settings/#secret-key
SECRET_KEY = "test-only-secret-key-not-used-anywhere-else"

# Tests must see what production sees, not the debug pages.
DEBUG = False

# https://docs.djangoproject.com/en/5.2/topics/testing/overview/#password-hashing
# The default hasher is slow on purpose; tests that create users do not need that.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Each test starts with an empty cache of its own, and throttling counts nothing across tests.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Tasks run in the test process when queued, and their exceptions reach the test: no broker needed.
# https://docs.celeryq.dev/en/stable/userguide/testing.html
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
