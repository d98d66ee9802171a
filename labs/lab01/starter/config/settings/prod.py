"""Settings for servers: everything that matters comes from the environment, nothing defaults.

A missing DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS or DATABASE_URL stops the process at start-up
with ImproperlyConfigured, which is better than serving requests with a guessed value.
"""

from .base import *

# TODO(lab01): production settings: everything from the environment, no secret default,
# debug always off (labs/lab01/README.md, steps 2 and 3).
