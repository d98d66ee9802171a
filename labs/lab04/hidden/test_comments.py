"""lab04 hidden checks: a post's comments, and what their list costs in queries.

Grader fixtures only. Comments go on published posts, written by readers, so these checks keep
holding when later labs scope who may comment (lab06). A list body may be a JSON array or a
paginated object with ``results`` (lab07).
"""

from __future__ import annotations

import datetime
import itertools
import re

WHEN = datetime.datetime(2024, 9, 17, 8, 30, tzinfo=datetime.UTC)
MISSING = 987654321
_serial = itertools.count(1)


def _url(pk):
    return f"/api/posts/{pk}/comments/"


def _post(data):
    """A published post by a new author in a new category; its pk."""
    n = next(_serial)
    category = data.create("blog.Category", name=f"Grader topic {n}", slug=f"grader-topic-{n}")
    return data.create(
        "blog.Post",
        title=f"Grader post {n}",
        slug=f"grader-post-{n}",
        body="Written by the grader.",
        author=data.user(role="author"),
        category=category,
        status="published",
        published_at=WHEN,
    )


def _comment(data, post, body="Thanks, grader."):
    return data.create("blog.Comment", post=post, author=data.user(role="reader"), body=body)


def _items(response):
    body = response.json()
    if isinstance(body, dict) and isinstance(body.get("results"), list):
        return body["results"]
    assert isinstance(body, list), (
        f"{response.request_line} answered {str(body)[:80]}; expected a JSON array of comments"
    )
    return body


def _names_field(body, field):
    if isinstance(body, dict):
        return field in body or any(_names_field(value, field) for value in body.values())
    if isinstance(body, list):
        return any(_names_field(value, field) for value in body)
    return False


def test_comments_are_listed_oldest_first(api, data):
    post = _post(data)
    first = _comment(data, post, "First, says the grader.")
    second = _comment(data, post, "Second, says the grader.")
    _comment(data, _post(data), "On another post.")
    response = api.get(_url(post))
    assert response.status == 200, f"GET {_url(post)} answered {response.status}, expected 200"
    got = [(row.get("id"), row.get("body")) for row in _items(response) if isinstance(row, dict)]
    expected = [(first, "First, says the grader."), (second, "Second, says the grader.")]
    assert got == expected, f"GET {_url(post)} listed {got}; expected this post's comments, oldest first: {expected}"


def test_adding_a_comment_answers_201(api, data):
    post = _post(data)
    reader = data.user(role="reader")
    api.authenticate(reader)
    response = api.post(_url(post), json_body={"body": "A grader's reply."})
    assert response.status == 201, f"POST {_url(post)} with a comment answered {response.status}, expected 201"
    rows = data.values("blog.Comment", "author", "body", post=post)
    assert rows == [{"author": reader, "body": "A grader's reply."}], (
        f"after POST {_url(post)} the post's comments are {rows}; expected one, by the logged-in user"
    )


def test_a_blank_comment_is_refused(api, data):
    post = _post(data)
    api.authenticate(data.user(role="reader"))
    response = api.post(_url(post), json_body={"body": "   "})
    assert response.status == 400, f"POST {_url(post)} with a body of spaces answered {response.status}, expected 400"
    assert _names_field(response.json(), "body"), f"POST {_url(post)} with a body of spaces answered 400 without naming the field 'body'"
    assert data.count("blog.Comment", post=post) == 0, f"POST {_url(post)} answered 400 but stored the comment"


def test_a_comment_with_a_banned_term_is_refused(api, data):
    data.create("blog.BannedTerm", term="grader snake oil", reason="Grader's banned term.")
    post = _post(data)
    api.authenticate(data.user(role="reader"))
    response = api.post(_url(post), json_body={"body": "Try my GRADER Snake Oil today."})
    assert response.status == 400, (
        f"POST {_url(post)} with the banned term 'grader snake oil' (in other case) in the body answered "
        f"{response.status}, expected 400 naming body: banned terms apply to comments too"
    )
    assert _names_field(response.json(), "body"), f"POST {_url(post)} with a banned term answered 400 without naming the field 'body'"
    assert data.count("blog.Comment", post=post) == 0, f"POST {_url(post)} with a banned term answered 400 but stored the comment"


def test_commenting_needs_a_logged_in_user(api, data):
    post = _post(data)
    api.authenticate(None)
    response = api.post(_url(post), json_body={"body": "Anonymous grader."})
    code = None
    body = response.json() if response.status != 500 else {}
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        code = body["error"].get("code")
    assert response.status in (401, 403) and code == "not_authenticated", (
        f"POST {_url(post)} without logging in answered {response.status} {code or ''}".rstrip()
        + "; expected 403 not_authenticated (401 once lab05's tokens are in): commenting needs a logged-in user"
    )
    assert data.count("blog.Comment", post=post) == 0, f"POST {_url(post)} without logging in stored the comment"


def test_comments_of_a_missing_post_are_404(api, data):
    api.authenticate(data.user(role="reader"))
    listed = api.get(_url(MISSING))
    added = api.post(_url(MISSING), json_body={"body": "Anyone there?"})
    assert (listed.status, added.status) == (404, 404), (
        f"GET and POST {_url(MISSING)} (no such post) answered {listed.status} and {added.status}, expected 404 and 404"
    )


def test_comment_list_query_count_does_not_grow(api, data, queries):
    post = _post(data)
    for _ in range(2):
        _comment(data, post)
    with queries.count() as few:
        first = api.get(_url(post))
    for _ in range(8):
        _comment(data, post)
    with queries.count() as many:
        second = api.get(_url(post))
    assert first.status == second.status == 200, f"GET {_url(post)} answered {first.status} and {second.status}, expected 200"
    assert many.total <= few.total, (
        f"GET {_url(post)} ran {few.total} queries for 2 comments, {many.total} for 10: load the authors with the "
        f"comments (select_related); most repeated, {_most_repeated(many.sql)}"
    )


def _most_repeated(sql):
    """The statement run most often, numbers blanked out (each row's id differs), shortened."""
    shapes = [re.sub(r"\d+", "N", statement) for statement in sql]
    if not shapes:
        return "none"
    shape = max(set(shapes), key=shapes.count)
    _, found, source = shape.partition(" FROM ")  # the columns say less than the table
    return f"{shapes.count(shape)} times: {'SELECT … FROM ' + source[:120] if found else shape[:120]}"
