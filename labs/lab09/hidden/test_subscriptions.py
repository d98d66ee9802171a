"""lab09 hidden checks: subscribing to authors through the API, in lab04's error format.

``POST /api/subscriptions/ {"author": "<username>"}``, ``GET /api/subscriptions/`` and
``DELETE /api/subscriptions/<id>/``, as the caller ``api.authenticate`` names.
"""

from __future__ import annotations

import itertools

SUBS = "/api/subscriptions/"
_serial = itertools.count(1)


def _named(data, role):
    name = f"grader-{role}-{next(_serial)}"
    return data.user(role=role, username=name), name


def _error(response):
    body = response.json()
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(error, dict) and "code" in error and "message" in error, (
        f"{response.request_line} answered {response.status} with {str(body)[:120]}; every error "
        "must be {\"error\": {\"code\", \"message\", \"fields\"?}} (lab04)"
    )
    return error


def test_a_reader_subscribes_lists_and_unsubscribes(data, api):
    reader, _ = _named(data, "reader")
    _, author_name = _named(data, "author")
    api.authenticate(reader)
    created = api.post(SUBS, json_body={"author": author_name})
    assert created.status == 201, f"POST {SUBS} {{\"author\": \"{author_name}\"}} as a reader answered {created.status}; expected 201"
    body = created.json()
    assert body.get("author") == author_name and isinstance(body.get("id"), int), (
        f"POST {SUBS} answered {body}; expected the subscription: {{\"id\", \"author\": "
        f"\"{author_name}\", \"created_at\"}}"
    )
    assert created.headers.get("location", "").endswith(f"{SUBS}{body['id']}/"), (
        f"The 201 carried Location {created.headers.get('location')!r}; expected {SUBS}{body['id']}/"
    )
    listed = api.get(SUBS)
    assert listed.status == 200 and [row.get("author") for row in listed.json()] == [author_name], (
        f"GET {SUBS} answered {listed.status} {listed.body[:120]!s}; expected [the subscription to {author_name}]"
    )
    assert data.count("blog.Subscription", reader=reader) == 1
    gone = api.delete(f"{SUBS}{body['id']}/")
    assert gone.status == 204, f"DELETE {SUBS}{body['id']}/ answered {gone.status}; expected 204"
    assert data.count("blog.Subscription", reader=reader) == 0, "The subscription was still in the database"
    api.authenticate(None)


def test_subscribing_twice_is_409_and_to_a_non_author_400(data, api):
    reader, reader_name = _named(data, "reader")
    other_reader, other_name = _named(data, "reader")
    _, author_name = _named(data, "author")
    assert other_reader
    api.authenticate(reader)
    first = api.post(SUBS, json_body={"author": author_name})
    again = api.post(SUBS, json_body={"author": author_name})
    assert first.status == 201 and again.status == 409, (
        f"Subscribing to {author_name} twice answered {first.status} then {again.status}; expected 201, then 409"
    )
    assert _error(again)["code"] == "already_subscribed"
    for body, what in (
        ({"author": other_name}, "a reader (who writes no posts)"),
        ({"author": "grader-nobody-at-all"}, "a username that does not exist"),
        ({"author": reader_name}, "the caller themself"),
        ({}, "no author at all"),
    ):
        response = api.post(SUBS, json_body=body)
        assert response.status == 400, f"Subscribing to {what} answered {response.status}; expected 400"
        error = _error(response)
        assert "author" in (error.get("fields") or {}), (
            f"Subscribing to {what} answered {error}; the error's fields must name \"author\""
        )
    assert data.count("blog.Subscription", reader=reader) == 1
    api.authenticate(None)


def test_only_the_subscriber_may_unsubscribe_and_anonymous_is_401(data, api):
    reader, _ = _named(data, "reader")
    intruder, _ = _named(data, "reader")
    author, _ = _named(data, "author")
    pk = data.create("blog.Subscription", reader=reader, author=author)
    api.authenticate(intruder)
    response = api.delete(f"{SUBS}{pk}/")
    listed = api.get(SUBS)
    api.authenticate(None)
    assert response.status == 404, f"Another user's DELETE {SUBS}{pk}/ answered {response.status}; expected 404"
    assert listed.status == 200 and listed.json() == [], (
        f"GET {SUBS} as a user with no subscription answered {listed.json()}; expected [] (only the caller's own)"
    )
    assert data.count("blog.Subscription", pk=pk) == 1, "Another user deleted the subscription"
    for method in ("get", "post"):
        anonymous = getattr(api, method)(SUBS, **({"json_body": {"author": "x"}} if method == "post" else {}))
        assert anonymous.status == 401, f"{method.upper()} {SUBS} without credentials answered {anonymous.status}; expected 401"
