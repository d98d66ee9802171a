"""lab10 hidden checks: request ids, JSON log lines, the id in the tasks, no secret in a line.

Grader fixtures only: ``api`` sends requests, ``logs.capture()`` collects the lines the
project's own logging writes meanwhile (its console handlers, its formatter), ``tasks`` runs a
real Celery worker, ``data`` writes rows. Each line is parsed here as JSON; the checks judge
what the handout fixes (one JSON object per line with timestamp, level, logger, message and
request_id; the request's line with method, path, status and a duration), not one library.
"""

from __future__ import annotations

import datetime
import itertools
import json
import re
import secrets

WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{1,64}")
LIVE = "/health/live"
POSTS = "/api/posts/"
TOKEN = "/api/auth/token/"
REQUIRED = ("timestamp", "level", "logger", "message", "request_id")
_serial = itertools.count(1)


def _rid(label):
    return f"grader-{label}-{next(_serial)}.{secrets.token_hex(4)}"


def _parsed(lines, *about):
    """The lines that are JSON objects. A line that is not one fails the check when it holds
    one of the strings ``about`` (the request ids the grader sent): that request's lines must
    all be JSON. Other output (a warning a library printed) is not the project's log."""
    found = []
    for line in lines:
        try:
            value = json.loads(line)
        except ValueError:
            value = None
        if isinstance(value, dict):
            found.append(value)
            continue
        assert not any(text in line for text in about), (
            f"This log line is not one JSON object: {line[:200]!r}. Every line the project "
            "logs must be a JSON object (a JSON formatter on the console handler in LOGGING)"
        )
    return found


def _with_id(parsed, request_id):
    return [line for line in parsed if line.get("request_id") == request_id]


# request-ids ---------------------------------------------------------------------------------


def test_a_well_formed_id_is_returned_and_a_missing_one_is_made(api):
    sent = _rid("kept")
    response = api.get(LIVE, headers={"X-Request-ID": sent})
    assert response.status == 200, f"GET {LIVE} answered {response.status}; expected 200"
    assert response.headers.get("x-request-id") == sent, (
        f"GET {LIVE} with X-Request-ID: {sent} answered X-Request-ID: "
        f"{response.headers.get('x-request-id')!r}; a well-formed id must be returned as sent"
    )
    made = [api.get(LIVE).headers.get("x-request-id") for _ in range(2)]
    assert all(isinstance(m, str) and WELL_FORMED.fullmatch(m) for m in made), (
        f"Without X-Request-ID the responses carried {made}; expected a new id on each "
        "(1 to 64 letters, digits, '-', '_' or '.': a uuid4 will do)"
    )
    assert made[0] != made[1], f"Two requests without an id were both given {made[0]!r}"


def test_a_malformed_or_oversized_id_is_never_echoed(api):
    for sent in ("two words", "x" * 65, 'a"b', "<script>", "id;drop"):
        returned = api.get(LIVE, headers={"X-Request-ID": sent}).headers.get("x-request-id")
        assert returned != sent, (
            f"GET {LIVE} with X-Request-ID: {sent!r} echoed it back; an id that is not 1 to 64 "
            "letters, digits, '-', '_' or '.' must be replaced by a new one (log injection)"
        )
        assert isinstance(returned, str) and WELL_FORMED.fullmatch(returned), (
            f"GET {LIVE} with the malformed X-Request-ID {sent!r} answered X-Request-ID "
            f"{returned!r}; expected a new, well-formed id"
        )


# json-logs -----------------------------------------------------------------------------------


def test_every_line_is_json_with_the_request_id(data, api, logs):
    ok, missing = _rid("list"), _rid("missing")
    with logs.capture() as captured:
        listed = api.get(POSTS, headers={"X-Request-ID": ok})
        api.get("/api/grader-no-such-page/", headers={"X-Request-ID": missing})
    assert listed.status == 200, f"GET {POSTS} answered {listed.status}; expected 200"
    parsed = _parsed(captured.lines, ok, missing)
    for request_id in (ok, missing):
        assert _with_id(parsed, request_id), (
            f"No log line carried request_id {request_id!r}, the X-Request-ID of a request the "
            f"grader sent (lines seen: {len(parsed)}). Put the id on every record (a logging "
            "filter reading a contextvar) and log one line when each request finishes"
        )
    for line in _with_id(parsed, ok) + _with_id(parsed, missing):
        absent = [key for key in REQUIRED if key not in line]
        assert not absent, f"This log line lacks {absent}: {json.dumps(line)[:300]}"
        stamp = str(line["timestamp"]).replace("Z", "+00:00")
        try:
            datetime.datetime.fromisoformat(stamp)
        except ValueError:
            raise AssertionError(
                f"The timestamp {line['timestamp']!r} is not ISO 8601 (2026-12-04T10:00:00+00:00)"
            ) from None


def test_the_request_line_names_method_path_status_and_duration(data, api, logs):
    request_id = _rid("line")
    with logs.capture() as captured:
        api.get(POSTS, headers={"X-Request-ID": request_id})
    lines = _with_id(_parsed(captured.lines, request_id), request_id)
    finished = [
        line
        for line in lines
        if line.get("method") == "GET"
        and line.get("path") == POSTS
        and str(line.get("status")) == "200"
    ]
    assert finished, (
        f"No line of GET {POSTS} (request_id {request_id!r}) had method \"GET\", path "
        f"\"{POSTS}\" and status 200; lines of that request: "
        f"{[json.dumps(x)[:200] for x in lines][:3]}"
    )
    assert any(
        any(key.startswith("duration") for key in line) for line in finished
    ), "The request's line must say how long it took (duration_ms)"


# task-request-id -----------------------------------------------------------------------------


def _password_user(data, role):
    from django.contrib.auth.hashers import make_password

    password = f"Grader-{secrets.token_hex(8)}"
    username = f"grader-logs-{next(_serial)}"
    pk = data.user(role=role, username=username, password=make_password(password))
    return pk, username, password


def test_the_task_a_request_queued_logs_with_its_id(data, api, tasks, outbox, logs):
    n = next(_serial)
    author = data.user(role="author", email=f"author-logs{n}@grader.example")
    editor = data.user(role="editor", email=f"editor-logs{n}@grader.example")
    reader = data.user(role="reader", email=f"reader-logs{n}@grader.example")
    data.create("blog.Subscription", reader=reader, author=author)
    category = data.create("blog.Category", name=f"Grader logs {n}", slug=f"grader-logs-{n}")
    pk = data.create(
        "blog.Post",
        title=f"Grader logs {n}",
        slug=f"grader-logs-{n}",
        body="Written by the grader.",
        author=author,
        category=category,
        status="in_review",
    )
    request_id = _rid("task")
    with logs.capture() as captured:
        api.authenticate(editor)
        response = api.post(
            f"{POSTS}{pk}/transition/",
            json_body={"to": "published"},
            headers={"X-Request-ID": request_id},
        )
        api.authenticate(None)
        assert response.status == 200, (
            f"Publishing post {pk} as an editor answered {response.status}; expected 200"
        )
        tasks.wait()
    assert outbox.messages(), "Publishing sent no mail: lab09's task did not run"
    parsed = _parsed(captured.lines, request_id)
    about = [line for line in parsed if str(line.get("post_id")) == str(pk)]
    assert about, (
        f"No log line had post_id {pk}: the notification task must log one line when it is "
        "done, with the post's id as post_id (and how many mails it sent)"
    )
    assert any(line.get("request_id") == request_id for line in about), (
        f"The task's line for post {pk} carried request_id "
        f"{[line.get('request_id') for line in about]}, not {request_id!r}, the id of the request "
        "that queued it. Send the id in the task's headers (before_task_publish) and restore it "
        "while the task runs (task_prerun)"
    )


# no-secrets ----------------------------------------------------------------------------------


def test_no_password_or_token_reaches_a_log_line(data, api, logs):
    _, username, password = _password_user(data, "author")
    wrong = f"Wrong-{secrets.token_hex(8)}"
    with logs.capture() as captured:
        refused = api.post(TOKEN, json_body={"username": username, "password": wrong})
        pair = api.post(TOKEN, json_body={"username": username, "password": password})
        assert pair.status == 200, f"POST {TOKEN} with the right password answered {pair.status}"
        access, refresh = pair.json()["access"], pair.json()["refresh"]
        api.get("/api/auth/me/", headers={"Authorization": f"Bearer {access}"})
        api.post(f"{TOKEN}refresh/", json_body={"refresh": refresh})
    assert refused.status == 401, f"POST {TOKEN} with a wrong password answered {refused.status}"
    text = "\n".join(captured.lines)
    assert username in text, (
        f"No log line named {username!r}, whose login the grader had refused: log a refused "
        "login as a warning with the username (never the password)"
    )
    for secret, what in (
        (wrong, "the wrong password of a refused login"),
        (password, "a user's password"),
        (access, "an access token"),
        (refresh, "a refresh token"),
    ):
        assert secret not in text, (
            f"A log line holds {what}. Never log request bodies or headers (Authorization), "
            "and keep passwords and tokens out of `extra`"
        )
