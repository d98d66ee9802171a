"""Settings for the test suite (pytest): fast, deterministic, never reading a `.env` file."""

from .base import *

# TODO(lab01): test settings: fixed secret, debug off, fast hasher, DATABASE_URL or in-memory
# SQLite (labs/lab01/README.md, step 2).
