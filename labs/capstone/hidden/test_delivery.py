"""Capstone hidden checks: the container image and the CI pipeline, read as files, as lab10 reads them.

No container engine runs where the grader runs, so nothing here builds the image: the
learner's own pipeline does, and the ``pipeline`` criterion checks that it is asked to.
Grader fixtures only: ``delivery`` (hadolint's findings, the Dockerfile's instructions through
dockerfile-parse, the workflows as data, GitHub's workflow JSON Schema, actionlint's findings)
and ``project.manifest()`` for the health endpoints the image's HEALTHCHECK must ask.

What the capstone leaves open that lab10 fixes: the health path (any of the manifest's two),
the database the tests run on (a capstone may keep SQLite), and where the coverage gate's
threshold is written (the workflow's command, or the coverage or pytest configuration the
command reads).
"""

from __future__ import annotations

import configparser
import re
import tomllib

FAIL_UNDER = re.compile(r"fail[-_]under[= ]+(\d+(?:\.\d+)?)")
COVERAGE_BAR = 90


def _instructions(delivery):
    found = delivery.dockerfile()
    assert found, (
        "There is no Dockerfile at the project's root: the capstone ships as a container image "
        "(labs/capstone/README.md, \"Shipping\")"
    )
    return found


# container -----------------------------------------------------------------------------------


def test_hadolint_finds_nothing_in_the_dockerfile(delivery):
    _instructions(delivery)
    findings = delivery.hadolint()
    assert not findings, "hadolint reports: " + "; ".join(
        f"line {f['line']} {f['code']} ({f['level']}): {f['message']}" for f in findings[:5]
    )


def test_the_image_is_built_in_stages_runs_as_a_user_and_checks_its_health(delivery, project):
    manifest = project.manifest()
    instructions = _instructions(delivery)
    stages = max(i.stage for i in instructions) + 1
    assert stages >= 2, (
        f"The Dockerfile has {stages} stage; install the dependencies in one stage and copy only "
        "what runs into a second (FROM ... AS build, then FROM ... with COPY --from=build)"
    )
    final = delivery.final_stage()
    user = delivery.final_user()
    assert user not in (None, "root", "0", ""), (
        f"The image's last stage runs as {user or 'root'!r}" + (" (no USER)" if user is None else "")
        + ": create a user and switch to it with USER before CMD"
    )
    paths = (manifest.liveness, manifest.readiness)
    checks = [i for i in final if i.keyword == "HEALTHCHECK"]
    asked = checks[-1].value if checks else ""
    assert any(path.rstrip("/") in asked for path in paths), (
        "The final stage needs a HEALTHCHECK that asks the service's liveness or readiness "
        f"endpoint ({' or '.join(paths)}, from capstone.toml); found "
        f"{[c.value for c in checks] or 'none'}"
    )
    assert any(i.keyword in ("CMD", "ENTRYPOINT") and "gunicorn" in i.value for i in final), (
        "The image must start the service with Gunicorn (CMD [\"gunicorn\", "
        "\"config.wsgi:application\", ...]), not Django's development server"
    )


def test_no_secret_is_baked_into_the_image(delivery):
    _instructions(delivery)
    found = delivery.baked_secrets()
    assert not found, "; ".join(found[:3])


# pipeline ------------------------------------------------------------------------------------


def _workflows(delivery):
    workflows = delivery.workflows()
    assert workflows, (
        "There is no workflow in .github/workflows/: the capstone's pipeline lints, checks and "
        "tests every push and builds the image (labs/capstone/README.md, \"Shipping\")"
    )
    for document in workflows.values():
        if isinstance(document, ValueError):
            raise AssertionError(str(document))
    return workflows


def _steps(workflows):
    """Every step's ``run`` text and ``uses`` reference, over every job of every workflow."""
    runs, uses = [], []
    for document in workflows.values():
        for job in (document.get("jobs") or {}).values():
            if not isinstance(job, dict):
                continue
            for step in job.get("steps") or []:
                if isinstance(step, dict):
                    runs.append(str(step.get("run", "")))
                    uses.append(str(step.get("uses", "")))
    return "\n".join(runs), uses


def _thresholds(root):
    """The coverage thresholds the project's configuration sets: ``(coverage, pytest)``.

    ``coverage``: coverage.py's ``fail_under`` (pyproject.toml's [tool.coverage.report], a
    .coveragerc's [report], setup.cfg's or tox.ini's [coverage:report]), which ``coverage
    report`` and pytest-cov's ``--cov`` apply. ``pytest``: ``--cov-fail-under`` in pytest's
    addopts (pyproject.toml or pytest.ini), which every pytest run applies. None where unset."""
    coverage, pytest_opts = [], []
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            tool = tomllib.loads(pyproject.read_text(errors="replace")).get("tool") or {}
        except tomllib.TOMLDecodeError:
            tool = {}
        coverage.append(((tool.get("coverage") or {}).get("report") or {}).get("fail_under"))
        addopts = ((tool.get("pytest") or {}).get("ini_options") or {}).get("addopts", "")
        pytest_opts.append(_from_text(" ".join(addopts) if isinstance(addopts, list) else str(addopts)))
    for name, section in (
        (".coveragerc", "report"), ("setup.cfg", "coverage:report"), ("tox.ini", "coverage:report"),
        ("pytest.ini", "pytest"),
    ):
        path = root / name
        if not path.is_file():
            continue
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(path.read_text(errors="replace"))
        except configparser.Error:
            continue
        if section == "pytest":
            pytest_opts.append(_from_text(parser.get(section, "addopts", fallback="")))
        else:
            coverage.append(parser.get(section, "fail_under", fallback=None))
    return _highest(coverage), _highest(pytest_opts)


def _highest(values):
    numbers = []
    for value in values:
        try:
            numbers.append(float(value))
        except (TypeError, ValueError):
            continue
    return max(numbers) if numbers else None


def _from_text(text):
    match = FAIL_UNDER.search(text or "")
    return match.group(1) if match else None


def _coverage_bar(runs, root):
    """The threshold the workflow's commands enforce, or None when they enforce none."""
    in_command = _from_text(runs)
    if in_command is not None:
        return float(in_command)
    coverage, pytest_opts = _thresholds(root)
    bars = []
    if coverage is not None and ("coverage report" in runs or "--cov" in runs):
        bars.append(coverage)
    if pytest_opts is not None and "pytest" in runs:
        bars.append(pytest_opts)
    return max(bars) if bars else None


def test_the_workflow_is_valid_and_actionlint_finds_nothing(delivery):
    for name, document in _workflows(delivery).items():
        problems = delivery.schema_errors(document, "github-workflows")
        assert not problems, f"{name} breaks GitHub's workflow schema: " + "; ".join(problems)
        findings = delivery.actionlint(name)
        assert not findings, "actionlint reports: " + "; ".join(findings[:5])


def test_the_workflow_lints_checks_tests_with_a_coverage_gate_and_builds_the_image(delivery):
    workflows = _workflows(delivery)
    runs, uses = _steps(workflows)
    triggers = set()
    for document in workflows.values():
        on = document.get("on")
        triggers |= {on} if isinstance(on, str) else set(on or [])
    assert triggers & {"push", "pull_request"}, (
        f"The workflow runs on {sorted(triggers) or 'nothing'}; run it on push and pull_request"
    )
    bar = _coverage_bar(runs, delivery.root)
    wanted = {
        "the tests (pytest)": "pytest" in runs,
        "ruff (lint)": "ruff" in runs,
        "makemigrations --check": "makemigrations" in runs and "--check" in runs,
        f"a coverage gate of at least {COVERAGE_BAR}% (coverage report with fail_under, or "
        "--cov-fail-under)": bar is not None and bar >= COVERAGE_BAR,
        "the image build (docker build, or docker/build-push-action)": "docker build" in runs
        or "docker buildx build" in runs
        or any(u.startswith("docker/build-push-action") for u in uses),
    }
    missing = [what for what, there in wanted.items() if not there]
    assert not missing, "The workflow does not run: " + "; ".join(missing)
