"""lab01 hidden checks: the project's apps. Uses only grader fixtures (no learner imports)."""

from __future__ import annotations

LOCAL_APPS = ("accounts", "blog", "api")


def test_local_apps_installed(project):
    labels = project.app_labels()
    missing = [app for app in LOCAL_APPS if app not in labels]
    assert not missing, (
        f"INSTALLED_APPS has no app labelled {', '.join(missing)}; installed local apps: "
        f"{', '.join(a for a in labels if a not in ('admin', 'auth', 'contenttypes', 'sessions', 'messages', 'staticfiles', 'rest_framework')) or 'none'}"
    )


def test_local_apps_live_in_the_project(project):
    for app in LOCAL_APPS:
        path = project.app_path(app)
        assert path is not None, f"the {app} app is not a folder inside your project"
        assert (project.root / path / "apps.py").is_file(), f"{path}/apps.py is missing (use startapp)"
