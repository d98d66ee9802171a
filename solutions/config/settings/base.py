"""Settings shared by every environment.

Values that differ between machines (secrets, hosts, the database) come from environment
variables through the one `env` below; `dev.py`, `test.py` and `prod.py` start from this module
and change only what their environment needs.
"""

from pathlib import Path

import environ

# GENERAL
# ------------------------------------------------------------------------------
# The project root: the folder holding manage.py.
BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

# https://docs.djangoproject.com/en/5.2/ref/settings/#debug
# BEGIN LAB01
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# STUB LAB01
# # TODO(lab01): read DEBUG from DJANGO_DEBUG, off unless set (labs/lab01/README.md, step 3).
# DEBUG = True
# END LAB01

# https://docs.djangoproject.com/en/5.2/ref/settings/#secret-key
# BEGIN LAB01
# No SECRET_KEY here on purpose: a default shared by every environment would end up in
# production. dev.py and test.py set their own; prod.py requires DJANGO_SECRET_KEY.
# STUB LAB01
# # TODO(lab01): no secret belongs in shared settings (labs/lab01/README.md, step 3).
# SECRET_KEY = "django-insecure-change-me"
# END LAB01

# https://docs.djangoproject.com/en/5.2/ref/settings/#allowed-hosts
# BEGIN LAB01
ALLOWED_HOSTS: list[str] = env.list("DJANGO_ALLOWED_HOSTS", default=[])
# STUB LAB01
# # TODO(lab01): read ALLOWED_HOSTS from DJANGO_ALLOWED_HOSTS (labs/lab01/README.md, step 3).
# ALLOWED_HOSTS = ["*"]
# END LAB01

TIME_ZONE = "UTC"
USE_TZ = True
LANGUAGE_CODE = "en-us"
USE_I18N = True

# DATABASES
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#databases
# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-db-url
# BEGIN LAB01
# SQLite needs nothing installed; DATABASE_URL=postgres://user:pass@host:5432/name switches over.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# STUB LAB01
# # TODO(lab01): read the database from DATABASE_URL (labs/lab01/README.md, step 3).
# DATABASES = {
#     "default": {
#         "ENGINE": "django.db.backends.sqlite3",
#         "NAME": BASE_DIR / "db.sqlite3",
#     }
# }
# END LAB01

# https://docs.djangoproject.com/en/5.2/ref/settings/#default-auto-field
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# BEGIN LAB02

# https://docs.djangoproject.com/en/5.2/topics/auth/customizing/#substituting-a-custom-user-model
# Set before the first migration: a database whose tables already point at auth.User cannot be
# switched to another user model without being rebuilt.
AUTH_USER_MODEL = "accounts.User"
# STUB LAB02
#
# # TODO(lab02): use the accounts app's User model (labs/lab02/README.md, step 1).
# END LAB02

# URLS
# ------------------------------------------------------------------------------
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

# APPS
# ------------------------------------------------------------------------------
DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
THIRD_PARTY_APPS = [
    "rest_framework",
    # BEGIN LAB05
    # Stores issued refresh tokens and the ones refused from now on (logout, rotation).
    "rest_framework_simplejwt.token_blacklist",
    # STUB LAB05
    # # TODO(lab05): install Simple JWT's blacklist app (labs/lab05/README.md, step 1).
    # END LAB05
    # BEGIN LAB08
    # The OpenAPI schema generated from the project, and the documentation pages' own copies of
    # Swagger UI and Redoc (no CDN: the pages work offline and in CI).
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # STUB LAB08
    # # TODO(lab08): install drf-spectacular and its sidecar (labs/lab08/README.md, step 1).
    # END LAB08
]
# BEGIN LAB01
LOCAL_APPS = [
    "accounts",
    "blog",
    "api",
]
# STUB LAB01
# # TODO(lab01): create and register the accounts, blog and api apps (labs/lab01/README.md,
# # step 1).
# LOCAL_APPS: list[str] = []
# END LAB01
# https://docs.djangoproject.com/en/5.2/ref/settings/#installed-apps
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

# MIDDLEWARE
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#middleware
MIDDLEWARE = [
    # BEGIN LAB10
    # First, so that every line a request produces, and the one that says it finished, carries
    # its id (api/request_ids.py); then every response is counted and timed (api/metrics.py).
    "api.request_ids.RequestIdMiddleware",
    "api.metrics.MetricsMiddleware",
    # A lost database answers 503 in the API's error body, not a 500 page (api/outages.py).
    "api.outages.DatabaseOutageMiddleware",
    # STUB LAB10
    # # TODO(lab10): the request-id and metrics middleware (labs/lab10/README.md, steps 1 and 4).
    # END LAB10
    "django.middleware.security.SecurityMiddleware",
    # BEGIN LAB08
    # Static files (the docs pages' Swagger UI and Redoc) from the project itself, right after
    # SecurityMiddleware as WhiteNoise asks, whether DEBUG is on or off.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # END LAB08
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # BEGIN LAB07
    # Marks every response served as API version 1 as deprecated (api/versioning.py).
    "api.versioning.DeprecationHeadersMiddleware",
    # END LAB07
]

# PASSWORDS
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#auth-password-validators
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# TEMPLATES (the admin and DRF's browsable pages)
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#templates
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# STATIC FILES
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#static-url
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# BEGIN LAB08
# WhiteNoise finds the apps' static files where they are, so nothing needs `collectstatic`
# before the docs pages work; a deployment that collects them may turn this off.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)
# END LAB08

# DJANGO REST FRAMEWORK
# ------------------------------------------------------------------------------
# https://www.django-rest-framework.org/api-guide/settings/
# Closed by default: an endpoint open to anonymous clients says so itself.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # BEGIN LAB05
        # First, so a request without credentials is answered 401 with WWW-Authenticate: Bearer.
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        # STUB LAB05
        # # TODO(lab05): authenticate API clients by JSON Web Token first (labs/lab05/README.md,
        # # step 1).
        # END LAB05
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
    ],
    # BEGIN LAB04
    # Every error the API answers has one documented body (api/errors.py).
    "EXCEPTION_HANDLER": "api.errors.api_exception_handler",
    # STUB LAB04
    # # TODO(lab04): register the API's exception handler (labs/lab04/README.md, step 4).
    # END LAB04
    # BEGIN LAB07
    # Clients choose a version with `Accept: application/json; version=2`; none means "1",
    # which is deprecated (api/versioning.py). Another version answers 406.
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.AcceptHeaderVersioning",
    "ALLOWED_VERSIONS": ["1", "2"],
    "DEFAULT_VERSION": "1",
    # One rate per kind of caller, counted in the default cache (api/throttles.py). Editors
    # and admins share the authors' rate.
    "DEFAULT_THROTTLE_CLASSES": ["api.throttles.RoleRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": "20/minute",
        "reader": "60/minute",
        "author": "120/minute",
    },
    # STUB LAB07
    # # TODO(lab07): versions in the Accept header (labs/lab07/README.md, step 2) and a rate per
    # # role (step 6).
    # END LAB07
    # BEGIN LAB08
    # drf-spectacular reads every view, serializer and setting above to write the schema.
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # STUB LAB08
    # # TODO(lab08): let drf-spectacular describe the views (labs/lab08/README.md, step 1).
    # END LAB08
}

# BEGIN LAB05
# SIMPLE JWT
# ------------------------------------------------------------------------------
# https://django-rest-framework-simplejwt.readthedocs.io/en/latest/settings.html
# Tokens are signed with SECRET_KEY (Simple JWT's default), so every environment signs with its
# own secret. The lifetimes are Simple JWT's defaults: an access token lives 5 minutes (it
# cannot be revoked, only outlived), a refresh token a day. A refresh token is used once: each
# refresh answers a new one and blacklists the old.
SIMPLE_JWT = {
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
    # Tokens carry the user's role (api/auth_serializers.py).
    "TOKEN_OBTAIN_SERIALIZER": "api.auth_serializers.RoleTokenObtainPairSerializer",
}

# STUB LAB05
# # TODO(lab05): configure Simple JWT: short-lived access tokens, refresh tokens that rotate
# # and are blacklisted after use (labs/lab05/README.md, step 1).
#
# END LAB05
# BEGIN LAB07
# CACHES
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/topics/cache/
# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-cache-url
# Throttle counters live here. In memory, per process, unless CACHE_URL names a shared cache:
# production sets CACHE_URL=redis://HOST:6379/1 (Django's RedisCache; install `redis` there).
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

# API VERSION 1: DEPRECATED (api/versioning.py, labs/lab07/README.md)
# ------------------------------------------------------------------------------
# Version 2 answers lists in pages. Version 1, the default until its sunset, says in every
# response since when it is deprecated, when it ends, and where the migration notes are.
# ISO 8601, in UTC.
API_V1_DEPRECATED_AT = "2026-09-01T00:00:00Z"
API_V1_SUNSET = "2027-03-01T00:00:00Z"
API_V1_MIGRATION_NOTES = env.str(
    "API_V1_MIGRATION_NOTES",
    default="https://blogcraft.example.com/docs/api/migrating-to-v2/",
)

# STUB LAB07
# # TODO(lab07): the cache throttles count in, from CACHE_URL (labs/lab07/README.md, step 1),
# # and the deprecation dates of version 1 (step 2).
#
# END LAB07
# BEGIN LAB08
# OPENAPI SCHEMA (drf-spectacular)
# ------------------------------------------------------------------------------
# https://drf-spectacular.readthedocs.io/en/latest/settings.html
# The schema served at /api/schema/ must equal the committed openapi.yaml (the contract):
# regenerate it with `python manage.py spectacular --file openapi.yaml` after a change.
SPECTACULAR_SETTINGS = {
    "TITLE": "BlogCraftAI blog API",
    "DESCRIPTION": (
        "Posts, comments, categories and tags, with JSON Web Token authentication. Choose a "
        "version with `Accept: application/json; version=2` (pages); no version is version 1 "
        "(arrays, deprecated). Every error has the body of the `Error` component."
    ),
    "VERSION": "2.0.0",
    # The schema endpoint itself is not part of the API it describes.
    "SERVE_INCLUDE_SCHEMA": False,
    # Separate components for what a client sends and what it reads back (PostRequest, Post).
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs pages load Swagger UI and Redoc from this project (drf-spectacular-sidecar).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every 4xx an operation can answer, with the one error body (api/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.document_common_errors",
    ],
}

# STUB LAB08
# # TODO(lab08): the schema's title, version and docs assets (labs/lab08/README.md, step 1).
#
# END LAB08
# BEGIN LAB09
# CELERY (config/celery.py reads every CELERY_ setting)
# ------------------------------------------------------------------------------
# https://docs.celeryq.dev/en/stable/django/first-steps-with-django.html
# https://docs.celeryq.dev/en/stable/userguide/configuration.html
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
# Nothing reads a task's return value: the database records what each task did.
CELERY_TASK_IGNORE_RESULT = True
# Acknowledge a message once its task has finished, not when it starts: a worker that dies in
# the middle leaves the message to be delivered again (tasks must therefore be idempotent).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# One message at a time per worker process, so a long task does not hold others back.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A retry waits in the worker (eta); Redis must not hand the message out again meanwhile.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}

# The published post lists, cached apart from the throttle counters (blog/cache.py), so that
# emptying or losing one never touches the other.
CACHES["lists"] = env.cache_url("LIST_CACHE_URL", default="redis://127.0.0.1:6379/1")
LIST_CACHE_SECONDS = env.int("LIST_CACHE_SECONDS", default=300)

# EMAIL
# ------------------------------------------------------------------------------
# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-email-url
# EMAIL_URL=smtp://user:password@host:587 in production; the console prints mails by default.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="BlogCraft <noreply@blogcraft.example.com>"
)

# STUB LAB09
# # TODO(lab09): Celery's settings, CELERY_ namespace (labs/lab09/README.md, step 1), the
# # "lists" cache (step 5) and the mail settings (step 3).
#
# END LAB09
# LOGGING
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/topics/logging/
# Everything goes to the console (stderr), where containers and process managers collect it.
# Django's own loggers are routed here too, so each record is printed once, in one format.
LOG_LEVEL = env.str("DJANGO_LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "console": {
            "format": "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "console",
        },
    },
    "loggers": {
        "django": {
            "handlers": ["console"],
            "level": LOG_LEVEL,
            "propagate": False,
        },
    },
    "root": {
        "handlers": ["console"],
        "level": LOG_LEVEL,
    },
}
# BEGIN LAB10

# Every line as one JSON object (python-json-logger: it formats the stdlib logging records that
# Django, Celery and every library already write), with the request id on it. The handler and
# the levels stay as above; only the format changes. Field names: timestamp, level, logger,
# message, request_id, then whatever the line passed in `extra` (method, path, status ...).
LOGGING["filters"] = {"request_id": {"()": "api.request_ids.RequestIdFilter"}}
LOGGING["formatters"]["json"] = {
    "()": "pythonjsonlogger.json.JsonFormatter",
    "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s",
    "rename_fields": {"levelname": "level", "name": "logger"},
    "timestamp": True,  # "timestamp": ISO 8601 in UTC
}
LOGGING["handlers"]["console"]["formatter"] = "json"
LOGGING["handlers"]["console"]["filters"] = ["request_id"]

# METRICS (api/metrics.py)
# ------------------------------------------------------------------------------
# GET /metrics needs `Authorization: Bearer <METRICS_TOKEN>` when a token is set. Without one
# the metrics are open where METRICS_PUBLIC is on (a laptop, the tests) and answer 404 where it
# is off: prod.py turns it off, so a server never shows them to anyone without the token.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_PUBLIC = True
# STUB LAB10
#
# # TODO(lab10): log JSON lines with the request id (labs/lab10/README.md, step 1), and the
# # metrics token (step 4).
# END LAB10
