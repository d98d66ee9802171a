"""Settings for a developer's machine: debug on, a local-only secret, an optional `.env` file."""

from pathlib import Path

import environ

# Only development reads a `.env` file (copy `.env.example`); every other environment gets its
# variables from the process that starts it. The file is read before base.py is imported because
# base.py reads the variables as it loads. Variables already set in the shell win over the file.
environ.Env.read_env(Path(__file__).resolve().parent.parent.parent / ".env")

from .base import *  # noqa: E402  (must run after read_env, see above)

# https://docs.djangoproject.com/en/5.2/ref/settings/#debug
DEBUG = env.bool("DJANGO_DEBUG", default=True)

# https://docs.djangoproject.com/en/5.2/ref/settings/#secret-key
SECRET_KEY = env(
    "DJANGO_SECRET_KEY",
    default="django-insecure-dev-only-key-never-use-it-outside-your-machine",
)

# https://docs.djangoproject.com/en/5.2/ref/settings/#allowed-hosts
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
