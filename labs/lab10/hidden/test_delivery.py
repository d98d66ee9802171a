"""lab10 hidden checks: the Dockerfile, the compose file and the CI workflow, read as files.

No container engine runs where the grader runs, so nothing here builds an image: the learner's
own pipeline does (the handout says so). Grader fixture ``delivery`` only: hadolint's findings
and the Dockerfile's instructions (dockerfile-parse), the compose file and the workflows as
data, the Compose Specification's and GitHub Workflows' JSON Schemas, actionlint's findings.
"""

from __future__ import annotations

import json
import re


def _instructions(delivery):
    found = delivery.dockerfile()
    assert found, "There is no Dockerfile at the project's root (labs/lab10/README.md, step 6)"
    return found


# dockerfile ----------------------------------------------------------------------------------


def test_hadolint_finds_nothing(delivery):
    _instructions(delivery)
    findings = delivery.hadolint()
    assert not findings, "hadolint reports: " + "; ".join(
        f"line {f['line']} {f['code']} ({f['level']}): {f['message']}" for f in findings[:5]
    )


def test_two_stages_a_user_who_is_not_root_and_a_readiness_health_check(delivery):
    instructions = _instructions(delivery)
    stages = max(i.stage for i in instructions) + 1
    assert stages >= 2, (
        f"The Dockerfile has {stages} stage; build in one stage and copy only what runs into a "
        "second (multi-stage: FROM ... AS build, then FROM ... with COPY --from=build)"
    )
    final = delivery.final_stage()
    user = delivery.final_user()
    assert user not in (None, "root", "0", ""), (
        f"The image's last stage runs as {user or 'root'!r}" + (" (no USER)" if user is None else "")
        + ": create a user and switch to it with USER before CMD"
    )
    checks = [i for i in final if i.keyword == "HEALTHCHECK"]
    assert checks and "/health/ready" in checks[-1].value, (
        "The final stage needs a HEALTHCHECK that asks /health/ready (readiness: the database "
        f"and Redis answer); found {[c.value for c in checks] or 'none'}"
    )
    assert any(i.keyword in ("CMD", "ENTRYPOINT") and "gunicorn" in i.value for i in final), (
        "The image must start the service with Gunicorn (CMD [\"gunicorn\", \"config.wsgi:application\"])"
    )


def test_no_secret_is_baked_into_the_image(delivery):
    _instructions(delivery)
    found = delivery.baked_secrets()
    assert not found, "; ".join(found[:3])


# compose -------------------------------------------------------------------------------------


def _command(service):
    command = service.get("command") or service.get("entrypoint") or ""
    return " ".join(command) if isinstance(command, list) else str(command)


def test_the_compose_file_runs_the_database_redis_the_web_process_and_a_worker(delivery):
    compose = delivery.compose()
    assert compose is not None, (
        "There is no compose.yaml (or docker-compose.yml) at the project's root"
    )
    problems = delivery.schema_errors(compose, "compose-spec")
    assert not problems, "The compose file breaks the Compose Specification: " + "; ".join(problems)
    services = compose.get("services") or {}
    images = {name: str(s.get("image", "")) for name, s in services.items() if isinstance(s, dict)}
    assert any(image.startswith(("postgres", "docker.io/postgres", "docker.io/library/postgres")) for image in images.values()), (
        f"No compose service runs PostgreSQL (image: postgres:17); images: {images}"
    )
    assert any(image.startswith(("redis", "docker.io/redis", "docker.io/library/redis", "valkey")) for image in images.values()), (
        f"No compose service runs Redis (image: redis:7); images: {images}"
    )
    built = {name: s for name, s in services.items() if isinstance(s, dict) and "build" in s}
    commands = {name: _command(s) for name, s in built.items()}
    web = [n for n, c in commands.items() if "gunicorn" in c or (not c and "ports" in built[n])]
    worker = [n for n, c in commands.items() if "celery" in c and "worker" in c]
    assert web, (
        f"No compose service built from the project serves the web process with Gunicorn; "
        f"the built services run {commands}"
    )
    assert worker, (
        f"No compose service built from the project runs a Celery worker (celery -A config "
        f"worker); the built services run {commands}"
    )
    text = json.dumps(compose)
    assert "DJANGO_SECRET_KEY" in text, (
        "The services built from the project must get DJANGO_SECRET_KEY from the environment "
        "(environment: DJANGO_SECRET_KEY: ${DJANGO_SECRET_KEY})"
    )


# workflow ------------------------------------------------------------------------------------


def _workflow(delivery):
    workflows = delivery.workflows()
    assert workflows, "There is no workflow in .github/workflows/ (labs/lab10/README.md, step 7)"
    for document in workflows.values():
        if isinstance(document, ValueError):
            raise AssertionError(str(document))
    return workflows


def _runs(document):
    """Every step's `run` text and `uses` reference, per job."""
    jobs = document.get("jobs") or {}
    found = {}
    for name, job in jobs.items():
        if not isinstance(job, dict):
            continue
        steps = [s for s in job.get("steps") or [] if isinstance(s, dict)]
        found[name] = (
            "\n".join(str(s.get("run", "")) for s in steps),
            [str(s.get("uses", "")) for s in steps],
            job,
        )
    return found


def test_the_workflow_is_valid_and_actionlint_finds_nothing(delivery):
    for name, document in _workflow(delivery).items():
        problems = delivery.schema_errors(document, "github-workflows")
        assert not problems, f"{name} breaks GitHub's workflow schema: " + "; ".join(problems)
        findings = delivery.actionlint(name)
        assert not findings, "actionlint reports: " + "; ".join(findings[:5])


def test_the_workflow_tests_against_postgresql_and_redis_and_builds_the_image(delivery):
    workflows = _workflow(delivery)
    everything = {}
    for name, document in workflows.items():
        for job, (runs, uses, spec) in _runs(document).items():
            everything[f"{name}:{job}"] = (runs, uses, spec)
    tested = []
    for key, (runs, _, spec) in everything.items():
        services = spec.get("services") or {}
        images = " ".join(str(s.get("image", "")) for s in services.values() if isinstance(s, dict))
        if "pytest" in runs:
            tested.append((key, runs, images))
    assert tested, "No job of the workflow runs pytest"
    with_services = [t for t in tested if "postgres" in t[2] and "redis" in t[2]]
    assert with_services, (
        f"The job that runs the tests ({tested[0][0]}) has no PostgreSQL and Redis services "
        "(services: postgres: image: postgres:17, redis: image: redis:7)"
    )
    runs = "\n".join(r for r, _, _ in everything.values())
    wanted = {
        "ruff (lint)": "ruff" in runs,
        "a coverage gate (coverage report --fail-under=90 or --cov-fail-under=90)": bool(
            re.search(r"fail[-_]under[= ]+\d+", runs)
        ),
        "makemigrations --check": "makemigrations" in runs and "--check" in runs,
        "the schema check (manage.py spectacular --validate)": "spectacular" in runs,
        "the image build (docker build, or docker/build-push-action)": "docker build" in runs
        or "docker buildx build" in runs
        or any(u.startswith("docker/build-push-action") for _, us, _ in everything.values() for u in us),
    }
    missing = [what for what, there in wanted.items() if not there]
    assert not missing, "The workflow does not run: " + "; ".join(missing)
    triggers = set()
    for document in workflows.values():
        on = document.get("on")
        triggers |= {on} if isinstance(on, str) else set(on or [])
    assert triggers & {"push", "pull_request"}, (
        f"The workflow runs on {sorted(triggers)}; run it on push and pull_request"
    )
