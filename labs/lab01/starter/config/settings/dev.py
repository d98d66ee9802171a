"""Settings for a developer's machine: debug on, a local-only secret, an optional `.env` file."""

from .base import *

# TODO(lab01): development settings: read `.env`, debug on, a dev-only secret, local hosts
# (labs/lab01/README.md, steps 2 and 3).
