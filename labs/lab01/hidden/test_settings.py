"""lab01 hidden checks: settings split by environment and read from it.

Each settings module is imported in a fresh interpreter with an environment chosen here, with
random values so that a hard-coded answer cannot match.
"""

from __future__ import annotations

import secrets

SETTINGS = ("base", "dev", "test", "prod")


def _prod_env(**overrides):
    env = {
        "DJANGO_SECRET_KEY": "grader-" + secrets.token_urlsafe(24),
        "DATABASE_URL": f"postgres://blog:pw@db-{secrets.token_hex(3)}.example:5433/blog_{secrets.token_hex(3)}",
        "DJANGO_ALLOWED_HOSTS": f"api-{secrets.token_hex(3)}.example,www.example",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def test_every_settings_module_imports(project):
    for name in SETTINGS:
        probe = project.settings_module(f"config.settings.{name}", env=_prod_env(), names=["INSTALLED_APPS"])
        assert probe.imported, (
            f"config/settings/{name}.py does not import: {probe.error_type}: {probe.error_message}"
        )


def test_dev_settings_debug_on_by_default(project):
    probe = project.settings_module("config.settings.dev", env={}, names=["DEBUG"])
    assert probe.imported, f"config/settings/dev.py does not import without any environment variables: {probe.error_type}: {probe.error_message}"
    assert probe.values.get("DEBUG") is True, (
        f"with no DJANGO_DEBUG set, dev settings give DEBUG = {probe.values.get('DEBUG')!r}; expected True"
    )


def test_prod_settings_never_debug(project):
    probe = project.settings_module(
        "config.settings.prod", env=_prod_env(DJANGO_DEBUG="true"), names=["DEBUG"]
    )
    assert probe.imported, f"config/settings/prod.py does not import with a complete environment: {probe.error_type}: {probe.error_message}"
    assert probe.values.get("DEBUG") is False, (
        f"prod settings give DEBUG = {probe.values.get('DEBUG')!r} when DJANGO_DEBUG=true; "
        "expected False always"
    )


def test_prod_reads_environment(project):
    env = _prod_env()
    probe = project.settings_module(
        "config.settings.prod", env=env, names=["SECRET_KEY", "ALLOWED_HOSTS", "DATABASES"]
    )
    assert probe.imported, f"config/settings/prod.py does not import with a complete environment: {probe.error_type}: {probe.error_message}"
    assert probe.values.get("SECRET_KEY") == env["DJANGO_SECRET_KEY"], (
        "SECRET_KEY does not come from DJANGO_SECRET_KEY (it kept another value)"
    )
    hosts = env["DJANGO_ALLOWED_HOSTS"].split(",")
    assert probe.values.get("ALLOWED_HOSTS") == hosts, (
        f"ALLOWED_HOSTS is {probe.values.get('ALLOWED_HOSTS')!r}; expected {hosts!r} from DJANGO_ALLOWED_HOSTS"
    )
    default = (probe.values.get("DATABASES") or {}).get("default") or {}
    expected_host = env["DATABASE_URL"].split("@")[1].split(":")[0]
    expected_name = env["DATABASE_URL"].rsplit("/", 1)[1]
    got = (default.get("ENGINE"), default.get("HOST"), str(default.get("PORT")), default.get("NAME"))
    assert got == ("django.db.backends.postgresql", expected_host, "5433", expected_name), (
        f"DATABASES['default'] does not follow DATABASE_URL: got engine/host/port/name {got}"
    )


def test_prod_requires_secret_key(project):
    refused = project.settings_module(
        "config.settings.prod", env=_prod_env(DJANGO_SECRET_KEY=None), names=["SECRET_KEY"]
    )
    assert not refused.imported, (
        "config/settings/prod.py starts without DJANGO_SECRET_KEY (SECRET_KEY has a default)"
    )
    assert "SECRET_KEY" in (refused.error_message or ""), (
        f"prod settings fail without DJANGO_SECRET_KEY, but for another reason: "
        f"{refused.error_type}: {refused.error_message}"
    )
    accepted = project.settings_module("config.settings.prod", env=_prod_env(), names=["SECRET_KEY"])
    assert accepted.imported, (
        f"prod settings also fail when DJANGO_SECRET_KEY is set: {accepted.error_type}: {accepted.error_message}"
    )
