"""Capstone hidden checks: JWT authentication, roles, throttling, and what a signed-in writer's
requests meet and set off (the contract, the background task), on any learner's domain.

Driven by the learner's ``capstone.toml`` (``project.manifest()``): its token endpoint, roles and
resources, and the schema it serves. Grader fixtures only. Users are made in the project's own process by its user
model's ``create_user`` (``data.command("shell", ...)``) with a username and password chosen
here; every verdict then rests on HTTP: the project's token endpoint must hand out a token and
its API must honour it, so nothing the project says about itself can pass a check.
"""

from __future__ import annotations

import json
import re
import secrets

import pytest

pytestmark = pytest.mark.django_db

GARBAGE = "Bearer not.a.valid-token"


def _user(data, role):
    """A new user of ``role`` (a manifest role); ``(username, password)``."""
    username = f"grader-{role.name}-{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(18)
    payload = json.dumps({"username": username, "password": password, **role.fields})
    code = (
        "import json\n"
        "from django.contrib.auth import get_user_model\n"
        f"get_user_model().objects.create_user(**json.loads({payload!r}))\n"
    )
    done = data.command("shell", "-c", code)
    assert done["ok"], (
        f"creating a user of the role {role.name!r} with {dict(role.fields)} "
        f"(get_user_model().objects.create_user) failed: {done['error']}; make the fields in "
        "capstone.toml match your user model"
    )
    return username, password


def _token(api, manifest, username, password):
    response = api.post(manifest.token, json_body={"username": username, "password": password})
    assert response.status == 200, (
        f"POST {manifest.token} with a valid username and password answered {response.status}; "
        "expected 200 with an access token (Simple JWT's TokenObtainPairView)"
    )
    body = response.json()
    access = body.get("access") if isinstance(body, dict) else None
    assert isinstance(access, str) and access.count(".") == 2, (
        f"POST {manifest.token} answered {str(body)[:120]}; expected a JSON object whose "
        "'access' is a JWT"
    )
    return access


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def _create(api, resource, headers=None):
    return api.post(resource.collection, json_body=resource.create, headers=headers)


# jwt-auth ---------------------------------------------------------------------------------


def test_writes_without_a_token_are_401(api, project):
    manifest = project.manifest()
    for resource in manifest.resources:
        response = _create(api, resource)
        assert response.status == 401, (
            f"POST {resource.collection} without a token answered {response.status}; expected "
            "401 (put JWTAuthentication first in DEFAULT_AUTHENTICATION_CLASSES, so DRF "
            "answers 401 with WWW-Authenticate rather than 403)"
        )
        response = _create(api, resource, {"Authorization": GARBAGE})
        assert response.status == 401, (
            f"POST {resource.collection} with a malformed bearer token answered "
            f"{response.status}; expected 401"
        )


def test_the_token_endpoint_refuses_a_wrong_password(api, data, project):
    manifest = project.manifest()
    username, _ = _user(data, manifest.writers[0])
    response = api.post(manifest.token, json_body={"username": username, "password": "wrong"})
    assert response.status == 401, (
        f"POST {manifest.token} with a wrong password answered {response.status}; expected 401"
    )


def test_a_writer_signs_in_and_creates(api, data, project):
    manifest = project.manifest()
    for role in manifest.writers:
        token = _token(api, manifest, *_user(data, role))
        for resource in manifest.resources:
            response = _create(api, resource, _bearer(token))
            assert response.status == 201, (
                f"POST {resource.collection} as a {role.name} (writes = true) with the body "
                f"{resource.create} answered {response.status} {response.body[:120]!r}; "
                "expected 201 (is create in capstone.toml a valid body?)"
            )
            listed = api.get(resource.collection, headers=_bearer(token))
            assert listed.status == 200, (
                f"GET {resource.collection} as a {role.name} answered {listed.status}; "
                "expected 200"
            )


# roles ------------------------------------------------------------------------------------


def test_a_role_without_writes_reads_but_gets_403_on_writes(api, data, project):
    manifest = project.manifest()
    assert manifest.readers, (
        "capstone.toml lists no role with writes = false. Add a role that may read but not "
        "write (a field on your user model, checked by a permission class), and list it under "
        "[[roles]], so the grader can check that its writes get 403"
    )
    for role in manifest.readers:
        token = _token(api, manifest, *_user(data, role))
        for resource in manifest.resources:
            listed = api.get(resource.collection, headers=_bearer(token))
            assert listed.status == 200, (
                f"GET {resource.collection} as a {role.name} (writes = false) answered "
                f"{listed.status}; expected 200: this role may read"
            )
            response = _create(api, resource, _bearer(token))
            assert response.status == 403, (
                f"POST {resource.collection} as a {role.name} (writes = false) answered "
                f"{response.status}; expected 403 (a permission class that refuses writes to "
                "this role)"
            )


# throttling -------------------------------------------------------------------------------


def test_anonymous_callers_over_their_rate_get_429_with_retry_after(api, clock, project):
    throttle = project.manifest().throttle
    got = [api.get(throttle.path).status for _ in range(throttle.count)]
    refused = [n + 1 for n, status in enumerate(got) if status != 200]
    assert not refused, (
        f"anonymous GET {throttle.path}: requests {refused[:5]} of {throttle.count} answered "
        f"{sorted(set(got) - {200})}; expected all {throttle.count} to answer 200 within the "
        f"rate {throttle.rate} (is [throttle] in capstone.toml your anonymous rate?)"
    )
    over = api.get(throttle.path)
    assert over.status == 429, (
        f"anonymous GET {throttle.path}, request {throttle.count + 1} within "
        f"{throttle.seconds} s, answered {over.status}; expected 429 (rate {throttle.rate}: "
        "AnonRateThrottle or your own in DEFAULT_THROTTLE_CLASSES)"
    )
    retry = over.headers.get("retry-after", "").strip()
    assert retry.isdigit() and 0 < int(retry) <= throttle.seconds, (
        f"the 429 of GET {throttle.path} carried Retry-After: {retry!r}; expected the whole "
        f"seconds to wait (1 to {throttle.seconds})"
    )
    clock.advance(int(retry))
    again = api.get(throttle.path)
    assert again.status == 200, (
        f"anonymous GET {throttle.path} {retry} s later (the Retry-After it gave) answered "
        f"{again.status}; expected 200"
    )


# contract ---------------------------------------------------------------------------------


def _served_schema(api, manifest):
    response = api.get(manifest.schema, headers={"Accept": "application/vnd.oai.openapi+json"})
    schema = None
    if response.status == 200:
        try:
            schema = json.loads(response.body)
        except ValueError:
            import yaml  # the other format drf-spectacular serves

            try:
                schema = yaml.safe_load(response.body)
            except yaml.YAMLError:
                schema = None
    assert isinstance(schema, dict) and isinstance(schema.get("paths"), dict), (
        f"GET {manifest.schema} ([service] schema) answered {response.status} without an OpenAPI "
        "document with paths; the contract is checked against the schema the service serves"
    )
    return schema


def test_what_the_service_answers_matches_its_schema(api, data, clock, project, contract):
    manifest = project.manifest()
    schema = _served_schema(api, manifest)
    headers = _bearer(_token(api, manifest, *_user(data, manifest.writers[0])))

    def caller(label):
        # Throttle windows start afresh for each operation (the throttling criterion judges
        # rates), and an operation on one item gets an item of its own to act on, made
        # through the API as the signed-in writer, so DELETE before GET leaves GET a row.
        clock.advance(3600)
        path = label.split(" ", 1)[1]
        names = re.findall(r"{([^}]+)}", path)
        owner = [r for r in manifest.resources if path.startswith(r.collection)]
        if not names or not owner:
            return contract.caller(headers=headers)
        made = _create(api, owner[0], headers)
        try:
            body = made.json() if made.status == 201 else None
        except ValueError:  # not JSON: the operation is then tried on generated ids only
            body = None
        key = body.get("id", body.get("pk")) if isinstance(body, dict) else None
        known = {name: key for name in names} if key is not None else {}
        return contract.caller(headers=headers, path_parameters=known)

    report = contract.run(schema, caller, documented_statuses=False)
    assert report.operations, f"the schema at {manifest.schema} documents no operation"
    assert report.ok, report.feedback()


# background -------------------------------------------------------------------------------


def test_a_write_queues_the_task_after_the_commit_and_a_real_worker_runs_it(api, data, project, tasks):
    manifest = project.manifest()
    assert manifest.task, (
        "capstone.toml names no background task: add [tasks] with name = the registered name of "
        "the Celery task that creating an item queues (\"tasks.tasks.summarize\")"
    )
    described = tasks.describe(manifest.task)
    assert described, (
        f"No task named {manifest.task!r} is registered with config/celery.py's app: is [tasks] "
        "name the task's registered name, and is the app's autodiscover_tasks() finding it?"
    )
    resource = manifest.resources[0]
    headers = _bearer(_token(api, manifest, *_user(data, manifest.writers[0])))
    made = _create(api, resource, headers)
    assert made.status == 201, (
        f"POST {resource.collection} as a writer answered {made.status}; expected 201"
    )
    tasks.wait()
    queued = tasks.published(manifest.task)
    assert queued, (
        f"Creating an item (POST {resource.collection}) queued no {manifest.task}; queue it from "
        "the service that creates the item"
    )
    assert not any(message["in_transaction"] for message in queued), (
        f"{manifest.task} was queued inside the transaction that created the item: a worker can "
        "look for the row before it is committed, or after a rollback removed it. Queue it with "
        "transaction.on_commit(lambda: task.delay(...))"
    )
    states = [run["state"] for run in tasks.runs(manifest.task)]
    assert "SUCCESS" in states, (
        f"A real worker ran {manifest.task} {len(states)} time(s) for the new item, ending "
        f"{', '.join(states) or 'never'}; expected it to succeed"
    )
    retries = described.get("max_retries")
    assert described.get("acks_late") is True and isinstance(retries, int) and 0 < retries <= 20, (
        f"{manifest.task} has acks_late={described.get('acks_late')} and max_retries={retries}: "
        "a task that survives a failure is acknowledged after it ran (CELERY_TASK_ACKS_LATE = "
        "True, so a worker that dies mid-task leaves it to another) and retries a transient "
        "error a bounded number of times (autoretry_for=..., max_retries between 1 and 20)"
    )
