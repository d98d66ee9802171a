"""lab10 hidden checks: the production settings and the service as production runs it.

Grader fixtures only. ``project.settings_module`` imports ``config.settings.prod`` in a fresh
process with only production's variables and returns the settings asked for; Django's own
deployment checks (the functions ``manage.py check --deploy`` runs, from
``django.core.checks.security``) then judge those values here. ``production`` is the project
under Gunicorn with ``config.settings.prod``, asked over HTTP as the proxy in front of
production forwards requests (``X-Forwarded-Proto: https``).
"""

from __future__ import annotations

import json
import secrets

from prometheus_client.parser import text_string_to_metric_families

SECURITY = [
    "INSTALLED_APPS",
    "DEBUG",
    "SECRET_KEY",
    "SECRET_KEY_FALLBACKS",
    "ALLOWED_HOSTS",
    "MIDDLEWARE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_SSL_REDIRECT",
    "SECURE_REFERRER_POLICY",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "X_FRAME_OPTIONS",
    "CSRF_COOKIE_SECURE",
    "CSRF_USE_SESSIONS",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
]
DATABASE_URL = "postgres://grader:grader-pass@db.grader.example:5433/blog_production"


def _production_environment():
    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48),
        "DJANGO_ALLOWED_HOSTS": "api.grader.example",
        "DATABASE_URL": DATABASE_URL,
        "METRICS_TOKEN": secrets.token_urlsafe(16),
        "CELERY_BROKER_URL": "redis://redis.grader.example:6379/0",
    }


def _probe(project, names):
    probe = project.settings_module("config.settings.prod", env=_production_environment(), names=names)
    assert probe.imported, (
        "config.settings.prod did not import with DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, "
        f"DATABASE_URL, METRICS_TOKEN and CELERY_BROKER_URL set: {probe.error_type}: "
        f"{probe.error_message}"
    )
    return probe.values


class _Probed:
    """The probed settings, Django's defaults (global_settings) for the rest: what the deploy
    checks read, without touching this process's own settings."""

    def __init__(self, values):
        self._values = values

    def __getattr__(self, name):
        from django.conf import global_settings

        if name in self._values:
            return self._values[name]
        return getattr(global_settings, name)


def _deployment_issues(values):
    """What Django's deployment checks report for these settings: ["security.W004: ...", ...]."""
    from django.core.checks.security import base, csrf, sessions

    known = {name: values[name] for name in SECURITY if name in values}
    if isinstance(known.get("SECURE_REFERRER_POLICY"), list):
        known["SECURE_REFERRER_POLICY"] = tuple(known["SECURE_REFERRER_POLICY"])
    # Sessions are in use in any project with Django's admin; the check reads INSTALLED_APPS.
    known.setdefault("INSTALLED_APPS", ["django.contrib.sessions"])
    probed = _Probed(known)
    found = []
    modules = (base, csrf, sessions)
    saved = [module.settings for module in modules]
    try:
        for module in modules:
            module.settings = probed
        for module in modules:
            for name, function in sorted(vars(module).items()):
                if not name.startswith("check_") or not callable(function):
                    continue
                for issue in function(app_configs=None) or []:
                    found.append(f"{issue.id}: {str(issue.msg).split('. ')[0]}")
    finally:
        for module, original in zip(modules, saved, strict=True):
            module.settings = original
    return found


# prod-settings -------------------------------------------------------------------------------


def test_the_deployment_checklist_reports_nothing(project):
    values = _probe(project, SECURITY)
    assert values.get("DEBUG") is False, f"DEBUG is {values.get('DEBUG')!r} in production"
    issues = _deployment_issues(values)
    assert not issues, (
        "`manage.py check --deploy` with config.settings.prod would report: "
        + "; ".join(issues[:6])
        + ". Set what it names in config/settings/prod.py (labs/lab10/README.md, step 5)"
    )


def test_the_database_comes_from_database_url_and_static_files_from_whitenoise(project):
    values = _probe(project, ["DATABASES", "MIDDLEWARE", "STORAGES"])
    default = (values.get("DATABASES") or {}).get("default") or {}
    got = {key: default.get(key) for key in ("ENGINE", "NAME", "HOST", "PORT")}
    assert got["ENGINE"] == "django.db.backends.postgresql" and got["NAME"] == "blog_production" and got[
        "HOST"
    ] == "db.grader.example" and str(got["PORT"]) == "5433", (
        f"With DATABASE_URL={DATABASE_URL}, DATABASES['default'] was {got}: read it with "
        "env.db(\"DATABASE_URL\")"
    )
    middleware = values.get("MIDDLEWARE") or []
    white = "whitenoise.middleware.WhiteNoiseMiddleware"
    security = "django.middleware.security.SecurityMiddleware"
    assert white in middleware and security in middleware and (
        middleware.index(white) == middleware.index(security) + 1
    ), "WhiteNoiseMiddleware must come right after SecurityMiddleware in production's MIDDLEWARE"
    static = ((values.get("STORAGES") or {}).get("staticfiles") or {}).get("BACKEND", "")
    assert "whitenoise" in str(static).lower(), (
        f"STORAGES['staticfiles'] in production is {static!r}; serve collected files with "
        "WhiteNoise's storage (whitenoise.storage.CompressedManifestStaticFilesStorage)"
    )


# gunicorn ------------------------------------------------------------------------------------


def test_the_service_runs_under_gunicorn_with_the_production_settings(production):
    live = production.get("/health/live")
    assert live.status == 200, (
        f"Under Gunicorn with config.settings.prod, GET /health/live answered {live.status}"
    )
    ready = production.get("/health/ready")
    assert ready.status == 200, (
        f"Under Gunicorn with config.settings.prod (its own SQLite database, the grader's "
        f"Redis), GET /health/ready answered {ready.status}: {ready.text[:200]}"
    )
    request_id = f"grader-prod-{secrets.token_hex(6)}"
    answered = production.get("/health/live", headers={"X-Request-ID": request_id})
    assert answered.headers.get("x-request-id") == request_id, (
        "Under Gunicorn, a well-formed X-Request-ID was not returned"
    )
    mine = [line for line in production.lines() if request_id in line]
    assert mine, (
        f"Gunicorn's output has no line with the request id {request_id}: log one line per "
        "request on the console (stderr or stdout), in production too"
    )
    for line in mine:
        try:
            parsed = json.loads(line)
        except ValueError:
            parsed = None
        assert isinstance(parsed, dict), (
            f"Under Gunicorn this line is not one JSON object: {line[:200]!r}"
        )


def test_metrics_are_not_public_in_production(production):
    anonymous = production.get("/metrics")
    assert anonymous.status in (401, 403, 404), (
        f"Under the production settings GET /metrics without the token answered "
        f"{anonymous.status}; the metrics must not be public there"
    )
    scraped = production.get(
        "/metrics", headers={"Authorization": f"Bearer {production.metrics_token}"}
    )
    assert scraped.status == 200, (
        f"GET /metrics with Authorization: Bearer <METRICS_TOKEN> answered {scraped.status}; "
        "expected 200 for Prometheus"
    )
    try:
        families = list(text_string_to_metric_families(scraped.text))
    except Exception as exc:
        raise AssertionError(f"GET /metrics is not in Prometheus' text format ({exc})") from None
    assert families, "GET /metrics with the token answered no metric at all"
