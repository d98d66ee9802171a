"""Capstone hidden checks: what keeps the service operable, on any learner's domain.

Driven by ``capstone.toml`` (``project.manifest()``): the schema, health and deployment entries.
Grader fixtures only: HTTP for what the service answers, ``database_outage`` for readiness,
``models.pending_migrations()`` for the migrations, and a settings probe of the deployment
settings (imported in a process of their own with values chosen here) judged by Django's own
deployment checks in this process, over those values.
"""

from __future__ import annotations

import json
import secrets

import pytest

pytestmark = pytest.mark.django_db

# What Django's security checks (`check --deploy`) read. INSTALLED_APPS is left out on purpose:
# overriding it would import the project's apps into the process judging them.
DEPLOY_NAMES = [
    "DEBUG", "SECRET_KEY", "SECRET_KEY_FALLBACKS", "ALLOWED_HOSTS", "MIDDLEWARE",
    "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
    "SECURE_SSL_REDIRECT", "SECURE_CONTENT_TYPE_NOSNIFF", "SECURE_REFERRER_POLICY",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY", "X_FRAME_OPTIONS", "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_SECURE", "CSRF_USE_SESSIONS", "SILENCED_SYSTEM_CHECKS",
]  # fmt: skip


def _json(response, what):
    try:
        return response.json()
    except ValueError:
        raise AssertionError(f"{response.request_line} ({what}) did not answer JSON") from None


# health -----------------------------------------------------------------------------------


def test_liveness_and_readiness_answer_200(api, project):
    manifest = project.manifest()
    for name, path in (("liveness", manifest.liveness), ("readiness", manifest.readiness)):
        response = api.get(path)
        assert response.status == 200, (
            f"GET {path} ([service] {name}) answered {response.status}; expected 200 with no "
            "login (authentication_classes = [], permission_classes = [AllowAny])"
        )


def test_readiness_is_503_and_liveness_200_while_the_database_is_down(api, project, database_outage):
    manifest = project.manifest()
    ready = api.get(manifest.readiness)
    assert ready.status == 503, (
        f"GET {manifest.readiness} ([service] readiness) while the database was unreachable "
        f"answered {ready.status}; expected 503, so a load balancer takes the instance out"
    )
    live = api.get(manifest.liveness)
    assert live.status == 200, (
        f"GET {manifest.liveness} ([service] liveness) while the database was unreachable "
        f"answered {live.status}; expected 200: liveness must not depend on the database, or "
        "an outage restarts every healthy process"
    )


# openapi ----------------------------------------------------------------------------------


def test_the_schema_is_served_and_documents_every_resource(api, project):
    manifest = project.manifest()
    response = api.get(manifest.schema, headers={"Accept": "application/vnd.oai.openapi+json"})
    assert response.status == 200, (
        f"GET {manifest.schema} ([service] schema) answered {response.status}; expected 200 "
        "with the OpenAPI document (drf-spectacular's SpectacularAPIView)"
    )
    try:
        schema = json.loads(response.body)
    except ValueError:
        schema = None
    if schema is None:  # YAML is the other format drf-spectacular serves
        import yaml

        try:
            schema = yaml.safe_load(response.body)
        except yaml.YAMLError:
            schema = None
    assert isinstance(schema, dict) and str(schema.get("openapi", "")).startswith("3."), (
        f"GET {manifest.schema} did not answer an OpenAPI 3 document (JSON or YAML with "
        "'openapi: 3.x')"
    )
    paths = schema.get("paths") if isinstance(schema.get("paths"), dict) else {}
    for resource in manifest.resources:
        operations = paths.get(resource.collection)
        assert isinstance(operations, dict), (
            f"the schema has no path {resource.collection} ([[resources]] {resource.name}); it "
            f"documents {sorted(paths)[:8]}"
        )
        missing = sorted({"get", "post"} - set(operations))
        assert not missing, (
            f"the schema's {resource.collection} documents no {', '.join(missing)}"
        )
    assert manifest.token in paths, f"the schema does not document {manifest.token} ([auth] token)"


# migrations and deployment ----------------------------------------------------------------


def test_migrations_are_committed_and_match_the_models(models):
    pending = models.pending_migrations()
    assert not pending, (
        "`python manage.py makemigrations --check` would write: "
        + "; ".join(pending[:4])
        + ". Run makemigrations and commit the migrations it writes"
    )


def _deploy_env(deploy):
    secret = secrets.token_urlsafe(48)
    values = {
        "{secret}": secret,
        "{host}": "capstone.example.org",
        "{database}": "sqlite:////tmp/grader-deploy-check.sqlite3",
    }
    env = {}
    for key, value in deploy.env.items():
        for placeholder, chosen in values.items():
            value = value.replace(placeholder, chosen)
        env[key] = value
    return env


def test_the_deployment_settings_pass_check_deploy(project):
    from django.conf import UserSettingsHolder, global_settings, settings
    from django.core import checks

    deploy = project.manifest().deploy
    probe = project.settings_module(deploy.settings, env=_deploy_env(deploy), names=DEPLOY_NAMES)
    assert probe.imported, (
        f"{deploy.settings} ([deploy] settings) did not import with the variables of [deploy] "
        f"env: {probe.error_type}: {probe.error_message}"
    )
    found = dict(probe.values)
    values = {name: found.get(name, getattr(global_settings, name, None)) for name in DEPLOY_NAMES}
    # The probed values over this process's settings, as override_settings does, but without
    # its setting_changed signals, and without reading every overridden name back on the way
    # out (that read fails where this process has no SECRET_KEY of its own).
    holder = UserSettingsHolder(settings._wrapped)
    for name, value in values.items():
        setattr(holder, name, value)
    saved, settings._wrapped = settings._wrapped, holder
    try:
        messages = checks.run_checks(tags=[checks.Tags.security], include_deployment_checks=True)
    finally:
        settings._wrapped = saved
    silenced = set(values["SILENCED_SYSTEM_CHECKS"] or [])
    shown = [
        f"{m.id}: {str(m.msg).split('.')[0]}"
        for m in messages
        if m.level >= checks.WARNING and m.id not in silenced
    ]
    assert not shown, (
        f"`check --deploy` with {deploy.settings} reports: " + "; ".join(shown[:4])
    )
