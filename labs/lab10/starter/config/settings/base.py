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
DEBUG = env.bool("DJANGO_DEBUG", default=False)

# https://docs.djangoproject.com/en/5.2/ref/settings/#secret-key
# No SECRET_KEY here on purpose: a default shared by every environment would end up in
# production. dev.py and test.py set their own; prod.py requires DJANGO_SECRET_KEY.

# https://docs.djangoproject.com/en/5.2/ref/settings/#allowed-hosts
ALLOWED_HOSTS: list[str] = env.list("DJANGO_ALLOWED_HOSTS", default=[])

TIME_ZONE = "UTC"
USE_TZ = True
LANGUAGE_CODE = "en-us"
USE_I18N = True

# DATABASES
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#databases
# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-db-url
# SQLite needs nothing installed; DATABASE_URL=postgres://user:pass@host:5432/name switches over.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}

# https://docs.djangoproject.com/en/5.2/ref/settings/#default-auto-field
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# https://docs.djangoproject.com/en/5.2/topics/auth/customizing/#substituting-a-custom-user-model
# Set before the first migration: a database whose tables already point at auth.User cannot be
# switched to another user model without being rebuilt.
AUTH_USER_MODEL = "accounts.User"

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
    # Stores issued refresh tokens and the ones refused from now on (logout, rotation).
    "rest_framework_simplejwt.token_blacklist",
    # The OpenAPI schema generated from the project, and the documentation pages' own copies of
    # Swagger UI and Redoc (no CDN: the pages work offline and in CI).
    "drf_spectacular",
    "drf_spectacular_sidecar",
]
LOCAL_APPS = [
    "accounts",
    "blog",
    "api",
]
# https://docs.djangoproject.com/en/5.2/ref/settings/#installed-apps
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

# MIDDLEWARE
# ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#middleware
MIDDLEWARE = [
    # TODO(lab10): the request-id and metrics middleware (labs/lab10/README.md, steps 1 and 4).
    "django.middleware.security.SecurityMiddleware",
    # Static files (the docs pages' Swagger UI and Redoc) from the project itself, right after
    # SecurityMiddleware as WhiteNoise asks, whether DEBUG is on or off.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Marks every response served as API version 1 as deprecated (api/versioning.py).
    "api.versioning.DeprecationHeadersMiddleware",
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
# WhiteNoise finds the apps' static files where they are, so nothing needs `collectstatic`
# before the docs pages work; a deployment that collects them may turn this off.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)

# DJANGO REST FRAMEWORK
# ------------------------------------------------------------------------------
# https://www.django-rest-framework.org/api-guide/settings/
# Closed by default: an endpoint open to anonymous clients says so itself.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so a request without credentials is answered 401 with WWW-Authenticate: Bearer.
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
    ],
    # Every error the API answers has one documented body (api/errors.py).
    "EXCEPTION_HANDLER": "api.errors.api_exception_handler",
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
    # drf-spectacular reads every view, serializer and setting above to write the schema.
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

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

# TODO(lab10): log JSON lines with the request id (labs/lab10/README.md, step 1), and the
# metrics token (step 4).
