"""Capstone hidden checks: what keeps the service operable, on any learner's domain.

Driven by ``capstone.toml`` (``project.manifest()``): the schema, health and deployment entries.
Grader fixtures only: HTTP for what the service answers, ``logs.capture()`` for the lines the
project's own logging writes meanwhile, ``database_outage`` for readiness,
``models.pending_migrations()`` for the migrations, and a settings probe of the deployment
settings (imported in a process of their own with values chosen here) judged by Django's own
deployment checks in this process, over those values.
"""

from __future__ import annotations

import datetime
import itertools
import json
import re
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


WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{1,64}")
MALFORMED_IDS = ("two words", "x" * 65, 'a"b', "<script>", "id;drop", "line\\nbreak")
TIME_KEYS = ("time", "timestamp", "@timestamp", "asctime")
_serial = itertools.count(1)


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


# logs -------------------------------------------------------------------------------------


def _rid(label):
    return f"grader-{label}-{next(_serial)}.{secrets.token_hex(4)}"


def test_request_ids_are_kept_made_and_never_echoed_malformed(api, project):
    live = project.manifest().liveness
    sent = _rid("kept")
    kept = api.get(live, headers={"X-Request-ID": sent}).headers.get("x-request-id")
    assert kept == sent, (
        f"GET {live} with X-Request-ID: {sent} answered X-Request-ID: {kept!r}; a well-formed "
        "id a caller sends (a load balancer's) must come back as sent"
    )
    made = [api.get(live).headers.get("x-request-id") for _ in range(2)]
    assert all(isinstance(m, str) and WELL_FORMED.fullmatch(m) for m in made), (
        f"Without X-Request-ID, GET {live} answered X-Request-ID {made}; every response needs "
        "an id, made when the caller sent none (letters, digits, '.', '_', '-': a uuid4 will do)"
    )
    assert made[0] != made[1], f"Two requests without an id were both given {made[0]!r}"
    for bad in MALFORMED_IDS:
        returned = api.get(live, headers={"X-Request-ID": bad}).headers.get("x-request-id")
        assert returned != bad and isinstance(returned, str) and WELL_FORMED.fullmatch(returned), (
            f"GET {live} with the malformed X-Request-ID {bad!r} answered X-Request-ID "
            f"{returned!r}; an id that is not a plain token must be replaced by a new one, never "
            "echoed into a header or a log line (log injection)"
        )


def test_a_requests_log_lines_are_json_and_carry_its_id(api, project, logs):
    sent = _rid("missing")
    path = "/grader-no-such-page/"
    with logs.capture() as captured:
        response = api.get(path, headers={"X-Request-ID": sent})
    assert response.status == 404, f"GET {path} answered {response.status}; expected 404"
    mine = []
    for line in captured.lines:
        try:
            value = json.loads(line)
        except ValueError:
            value = None
        if isinstance(value, dict):
            if value.get("request_id") == sent:
                mine.append(value)
            continue
        assert sent not in line, (
            f"This log line of a request is not one JSON object: {line[:200]!r}. Give the "
            "console handler in LOGGING a JSON formatter"
        )
    assert mine, (
        f"No JSON log line carried request_id {sent!r}, the X-Request-ID of GET {path} (Django "
        f"logs a warning for every 404; {len(captured.lines)} line(s) seen). Put the request's "
        "id on every record with a logging filter and a JSON formatter on the console handler"
    )
    for line in mine:
        absent = [key for key in ("level", "message", "request_id") if key not in line]
        absent += [] if "logger" in line or "name" in line else ["logger"]
        stamp = next((line[key] for key in TIME_KEYS if key in line), None)
        absent += [] if stamp is not None else ["time"]
        assert not absent, f"This log line lacks {absent}: {json.dumps(line)[:300]}"
        try:
            datetime.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
        except ValueError:
            raise AssertionError(
                f"The log line's time {stamp!r} is not ISO 8601 (2026-12-07T10:00:00+00:00)"
            ) from None


# metrics ----------------------------------------------------------------------------------


def _scrape(api, path):
    from prometheus_client.parser import text_string_to_metric_families

    response = api.get(path)
    assert response.status == 200, (
        f"GET {path} ([service] metrics) answered {response.status}; expected 200 with the "
        "metrics in Prometheus' text format (the grader scrapes with the test settings, where "
        "no scrape token is set)"
    )
    try:
        return list(text_string_to_metric_families(response.body.decode("utf-8", "replace")))
    except (ValueError, IndexError, TypeError) as error:
        raise AssertionError(
            f"GET {path} did not answer Prometheus' text format ({str(error)[:120]}): serve "
            "prometheus_client.generate_latest() with CONTENT_TYPE_LATEST"
        ) from None


def _totals(families, kind, suffix, labelled=()):
    """Per family of ``kind``: the sum of its samples ending in ``suffix`` whose labels include
    one of each group in ``labelled``."""
    found = {}
    for family in families:
        if family.type != kind:
            continue
        samples = [
            s for s in family.samples
            if s.name.endswith(suffix) and all(set(group) & set(s.labels) for group in labelled)
        ]
        if samples:
            found[family.name] = sum(s.value for s in samples)
    return found


def test_the_metrics_count_and_time_every_request(api, project):
    manifest = project.manifest()
    assert manifest.metrics, (
        "capstone.toml names no [service] metrics: serve Prometheus metrics (prometheus-client: "
        "a counter of responses by method and status, a latency histogram) and add "
        'metrics = "/your/path/" under [service]'
    )
    path = manifest.throttle.path  # an endpoint anonymous callers may GET (capstone.toml)
    labels = (("method",), ("status", "code", "status_code"))
    before = _scrape(api, manifest.metrics)
    sent = 3
    for _ in range(sent):
        api.get(path)
    after = _scrape(api, manifest.metrics)
    earlier = _totals(before, "counter", "_total", labels)
    counted = _totals(after, "counter", "_total", labels)
    grown = {name: total - earlier.get(name, 0) for name, total in counted.items()}
    assert any(growth >= sent for growth in grown.values()), (
        f"After {sent} GETs of {path}, no counter labelled by method and status grew by "
        f"{sent} or more (counters so labelled, and their growth: {grown or 'none'}). Count "
        "every response in a middleware: Counter(..., [\"view\", \"method\", \"status\"])"
    )
    timed = _totals(after, "histogram", "_count")
    earlier = _totals(before, "histogram", "_count")
    assert any(total - earlier.get(name, 0) >= sent for name, total in timed.items()), (
        f"After {sent} GETs of {path}, no histogram's _count grew by {sent} or more "
        f"(histograms: {sorted(timed) or 'none'}). Time every response: "
        "Histogram(...).observe(seconds)"
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
