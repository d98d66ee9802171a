"""lab04 hidden checks: the post endpoints, their validation, their errors and their queries.

Grader fixtures only. Rows go in through ``data`` as posts by users with the author role: the
posts that are read (anonymously) are published, the ones that are changed or deleted are drafts
and the writer is their author, so these checks keep holding when later labs scope who may see
and change what (lab06 lets an author change only their own drafts). A list body may be a JSON
array or a paginated object with ``results`` (lab07).
"""

from __future__ import annotations

import datetime
import itertools
import re

import pytest

POSTS = "/api/posts/"
WHEN = datetime.datetime(2024, 9, 17, 8, 30, tzinfo=datetime.UTC)
MISSING = 987654321
_serial = itertools.count(1)


def _url(pk):
    return f"{POSTS}{pk}/"


def _category(data):
    n = next(_serial)
    return data.create("blog.Category", name=f"Grader category {n}", slug=f"grader-category-{n}")


def _tag(data, name=None):
    n = next(_serial)
    name = name or f"grader-tag-{n}"
    return data.create("blog.Tag", name=name, slug=name)


def _post(data, **fields):
    """A published post by a new author in a new category, with ``fields`` on top; its pk."""
    n = next(_serial)
    values = {
        "title": f"Grader post {n}",
        "slug": f"grader-post-{n}",
        "body": "Written by the grader.",
        "author": data.user(role="author"),
        "category": _category(data),
        "status": "published",
        "published_at": WHEN,
    }
    values.update(fields)
    return data.create("blog.Post", **values)


def _items(response):
    """The rows of a list response: the array itself, or a paginated body's ``results``."""
    body = response.json()
    if isinstance(body, dict) and isinstance(body.get("results"), list):
        return body["results"]
    assert isinstance(body, list), (
        f"{response.request_line} answered {str(body)[:80]}; expected a JSON array of posts"
    )
    return body


def _names_field(body, field):
    """Whether ``field`` is a key anywhere in ``body``: the answer says which field is wrong."""
    if isinstance(body, dict):
        return field in body or any(_names_field(value, field) for value in body.values())
    if isinstance(body, list):
        return any(_names_field(value, field) for value in body)
    return False


def _inner(body, key, name):
    """``body[key][name]`` when ``body[key]`` is an object, else what ``body[key]`` is."""
    value = body.get(key)
    return value.get(name) if isinstance(value, dict) else value


def _code(response):
    """The ``code`` of a documented error body, or None."""
    try:
        body = response.json()
    except AssertionError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("code") if isinstance(error, dict) else None


def _as_author(api, data):
    """Log ``api`` in as a new author; return the author's pk."""
    user = data.user(role="author")
    api.authenticate(user)
    return user


def _new_post(data, **fields):
    """A valid body for POST /api/posts/, with ``fields`` on top."""
    n = next(_serial)
    return {"title": f"Grader draft {n}", "body": "Sent by the grader.", "category": _category(data), **fields}


# Reading (post-read) --------------------------------------------------------------------------


def test_list_shows_every_post_newest_first(api, data):
    first = _post(data)
    second = _post(data)
    response = api.get(POSTS)
    assert response.status == 200, f"GET {POSTS} answered {response.status}, expected 200"
    ids = [row.get("id") for row in _items(response) if isinstance(row, dict)]
    assert ids == [second, first], (
        f"GET {POSTS} listed the posts with ids {ids}; expected {[second, first]} (every post, newest first)"
    )


def test_detail_shows_author_category_and_tags(api, data):
    writer = data.user(role="author", username="grader-ada")
    topic = data.create("blog.Category", name="Grader essays", slug="grader-essays")
    tags = [_tag(data, "grader-orm"), _tag(data, "grader-sql")]
    pk = _post(data, author=writer, category=topic, tags=tags, title="On joins")
    response = api.get(_url(pk))
    assert response.status == 200, f"GET {_url(pk)} answered {response.status}, expected 200"
    body = response.json()
    got = {
        "id": body.get("id"),
        "title": body.get("title"),
        "author": _inner(body, "author", "username"),
        "category": _inner(body, "category", "slug"),
        "tags": sorted(str(t.get("name")) for t in body.get("tags") or [] if isinstance(t, dict)),
    }
    expected = {"id": pk, "title": "On joins", "author": "grader-ada", "category": "grader-essays", "tags": ["grader-orm", "grader-sql"]}
    assert got == expected, (
        f"GET {_url(pk)} shows {got}; expected {expected} (author as {{id, username}}, category as {{id, name, slug, ...}}, tags as a list of {{id, name, slug}})"
    )


@pytest.mark.django_db
def test_missing_post_is_404(api):
    response = api.get(_url(MISSING))
    assert response.status == 404, f"GET {_url(MISSING)} (no such post) answered {response.status}, expected 404"


# Creating (post-create) -----------------------------------------------------------------------


def test_create_answers_201_with_location(api, data):
    _as_author(api, data)
    response = api.post(POSTS, json_body=_new_post(data, title="Hello from the grader"))
    assert response.status == 201, f"POST {POSTS} with a valid post answered {response.status}, expected 201 Created"
    body = response.json()
    pk = body.get("id") if isinstance(body, dict) else None
    assert isinstance(pk, int), f"POST {POSTS} answered 201 without the new post's id in the body: {str(body)[:100]}"
    location = response.headers.get("location", "")
    assert location.endswith(_url(pk)), (
        f"POST {POSTS} answered 201 with Location {location or '(none)'}; expected the new post's URL, ending in {_url(pk)}"
    )


def test_created_post_is_a_draft_by_the_requester(api, data):
    user = _as_author(api, data)
    tags = [_tag(data), _tag(data)]
    payload = _new_post(data, title="Grader: drafts first", tags=tags)
    response = api.post(POSTS, json_body=payload)
    assert response.status == 201, f"POST {POSTS} with a valid post answered {response.status}, expected 201"
    rows = data.values("blog.Post", "title", "slug", "status", "author", "category", title="Grader: drafts first")
    expected = [{"title": "Grader: drafts first", "slug": "grader-drafts-first", "status": "draft", "author": user, "category": payload["category"]}]
    assert rows == expected, (
        f"after POST {POSTS} the database holds {rows}; expected {expected} (a draft by the logged-in user, its slug made from the title when none is sent)"
    )
    stored = data.count("blog.Post", title="Grader: drafts first", tags__in=tags)
    assert stored == 2, f"POST {POSTS} with tags {tags} stored {stored} of them on the post; expected 2"


# Validating (post-validation) -----------------------------------------------------------------


def _refused(api, data, fields, field):
    """POST a post with ``fields``: expect 400 naming ``field``, and no row."""
    _as_author(api, data)
    payload = _new_post(data, **fields)
    response = api.post(POSTS, json_body=payload)
    shown = {k: (v[:60] + "…" if isinstance(v, str) and len(v) > 60 else v) for k, v in fields.items()}
    assert response.status == 400, f"POST {POSTS} with {shown} answered {response.status}, expected 400"
    body = response.json()
    assert _names_field(body, field), f"POST {POSTS} with {shown} answered 400 without naming the field {field!r}: {str(body)[:150]}"
    assert data.count("blog.Post", title=payload["title"]) == 0, f"POST {POSTS} with {shown} answered 400 but stored the post anyway"


def test_title_over_200_characters_is_refused(api, data):
    _refused(api, data, {"title": "t" * 201}, "title")


def test_slug_that_is_not_a_slug_is_refused(api, data):
    _refused(api, data, {"slug": "Not a slug!"}, "slug")


def test_unknown_category_is_refused(api, data):
    _refused(api, data, {"category": MISSING}, "category")


def test_unknown_tag_is_refused(api, data):
    _refused(api, data, {"tags": [_tag(data), MISSING]}, "tags")


def test_banned_term_is_refused_whatever_its_case(api, data):
    data.create("blog.BannedTerm", term="perpetual motion", reason="Grader's banned term.")
    _refused(api, data, {"body": "Build a Perpetual Motion machine at home."}, "body")


def test_a_slug_is_new_among_the_authors_posts(api, data):
    """The author's own slug again: 400 naming slug (not a 500 from the database's
    constraint). Another author may use the same slug: the rule is per author."""
    writer = _as_author(api, data)
    _post(data, author=writer, slug="grader-reused-slug")
    payload = _new_post(data, slug="grader-reused-slug")
    response = api.post(POSTS, json_body=payload)
    assert response.status == 400, (
        f"POST {POSTS} with the slug 'grader-reused-slug', which the same author already uses, answered "
        f"{response.status}, expected 400 naming slug" + (" (a 500: check the slug in the service before the database refuses it)" if response.status == 500 else "")
    )
    assert _names_field(response.json(), "slug"), (
        f"POST {POSTS} with a slug the author already uses answered 400 without naming the field 'slug': {str(response.json())[:150]}"
    )
    assert data.count("blog.Post", title=payload["title"]) == 0, f"POST {POSTS} with a slug the author already uses answered 400 but stored the post"
    _as_author(api, data)
    title = f"Grader same slug {next(_serial)}"
    other = api.post(POSTS, json_body=_new_post(data, slug="grader-reused-slug", title=title))
    stored = data.count("blog.Post", title=title, slug="grader-reused-slug")
    assert other.status < 300 and stored == 1, (
        f"POST {POSTS} by another author with the slug 'grader-reused-slug' answered {other.status} and stored "
        f"{stored} post(s); expected the post created: a slug must be new among the author's own posts only"
    )


def test_creating_needs_a_logged_in_user(api, data):
    payload = _new_post(data)
    response = api.post(POSTS, json_body=payload)
    assert response.status in (401, 403) and _code(response) == "not_authenticated", (
        f"POST {POSTS} without logging in answered {response.status} {_code(response) or ''}".rstrip()
        + "; expected 403 not_authenticated (401 once lab05's tokens are in): writing needs a logged-in user"
    )
    assert data.count("blog.Post", title=payload["title"]) == 0, f"POST {POSTS} without logging in stored the post"


# Changing and deleting (post-change) ----------------------------------------------------------


def test_patch_changes_only_the_given_fields(api, data):
    writer = _as_author(api, data)
    pk = _post(data, author=writer, title="Before", body="The body stays.", status="draft", published_at=None)
    response = api.patch(_url(pk), json_body={"title": "After"})
    assert response.status == 200, f"PATCH {_url(pk)} with a new title answered {response.status}, expected 200"
    rows = data.values("blog.Post", "title", "body", pk=pk)
    assert rows == [{"title": "After", "body": "The body stays."}], (
        f"after PATCH {_url(pk)} {{'title': 'After'}} the post is {rows}; expected the new title and the same body"
    )


def test_patch_validates_like_create(api, data):
    writer = _as_author(api, data)
    pk = _post(data, author=writer, title="Unchanged", slug="unchanged", status="draft", published_at=None)
    response = api.patch(_url(pk), json_body={"title": "Changed", "slug": "Not a slug!"})
    assert response.status == 400, f"PATCH {_url(pk)} with the slug 'Not a slug!' answered {response.status}, expected 400"
    rows = data.values("blog.Post", "title", "slug", pk=pk)
    assert rows == [{"title": "Unchanged", "slug": "unchanged"}], f"PATCH {_url(pk)} was refused but changed the post: {rows}"


def test_delete_answers_204_and_removes_the_post(api, data):
    writer = _as_author(api, data)
    pk = _post(data, author=writer, status="draft", published_at=None)
    response = api.delete(_url(pk))
    assert response.status == 204, f"DELETE {_url(pk)} answered {response.status}, expected 204 No Content"
    assert response.body == b"", f"DELETE {_url(pk)} answered 204 with a body ({response.body[:60]!r}); a 204 has none"
    assert data.count("blog.Post", pk=pk) == 0, f"DELETE {_url(pk)} answered 204 but the post is still in the database"


def test_changing_and_deleting_need_a_logged_in_user(api, data):
    pk = _post(data, title="Nobody may change this")
    api.authenticate(None)
    patched = api.patch(_url(pk), json_body={"title": "Changed anonymously"})
    deleted = api.delete(_url(pk))
    wrong = [
        f"{r.request_line} without logging in: got {r.status} {_code(r) or ''}".rstrip()
        for r in (patched, deleted)
        if r.status not in (401, 403) or _code(r) != "not_authenticated"
    ]
    assert not wrong, "; ".join(wrong) + " (expected 403 not_authenticated, 401 once lab05's tokens are in: writing needs a logged-in user)"
    rows = data.values("blog.Post", "title", pk=pk)
    assert rows == [{"title": "Nobody may change this"}], (
        f"after an anonymous PATCH and DELETE of {_url(pk)} the post is {rows}; expected it unchanged and still there"
    )


# The error format (error-format) --------------------------------------------------------------


def _error(response, code):
    """``response`` carries the documented error body with ``code``; return its ``error``."""
    where = response.request_line
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, (
        f"{where} answered {response.status} with {str(body)[:120]}; expected the documented body {{\"error\": {{\"code\", \"message\", ...}}}}"
    )
    error = body["error"]
    assert isinstance(error, dict) and set(error) <= {"code", "message", "fields"}, (
        f"{where}: the error object has the keys {sorted(error) if isinstance(error, dict) else error!r}; expected code, message and, for field errors, fields"
    )
    assert error.get("code") == code, f"{where} answered {response.status} with code {error.get('code')!r}; expected {code!r}"
    message = error.get("message")
    assert isinstance(message, str) and message.strip(), f"{where}: the error has no message for people (got {message!r})"
    return error


def test_validation_errors_use_the_error_format(api, data):
    _as_author(api, data)
    response = api.post(POSTS, json_body=_new_post(data, title=""))
    assert response.status == 400, f"POST {POSTS} with an empty title answered {response.status}, expected 400"
    fields = _error(response, "validation_error").get("fields")
    assert isinstance(fields, dict) and isinstance(fields.get("title"), list) and fields["title"], (
        f"POST {POSTS} with an empty title: error.fields is {fields!r}; expected {{\"title\": [\"<what is wrong>\"]}}"
    )


def test_domain_errors_use_the_error_format(api, data):
    data.create("blog.BannedTerm", term="grader forbidden phrase", reason="Grader's banned term.")
    _as_author(api, data)
    response = api.post(POSTS, json_body=_new_post(data, body="It has a grader forbidden phrase."))
    assert response.status == 400, f"POST {POSTS} with a banned term in the body answered {response.status}, expected 400"
    fields = _error(response, "banned_term").get("fields")
    assert isinstance(fields, dict) and fields.get("body"), (
        f"POST {POSTS} with a banned term in the body: error.fields is {fields!r}; expected the body field named"
    )


@pytest.mark.django_db
def test_not_found_uses_the_error_format(api):
    response = api.get(_url(MISSING))
    assert response.status == 404, f"GET {_url(MISSING)} (no such post) answered {response.status}, expected 404"
    _error(response, "not_found")


def test_method_not_allowed_uses_the_error_format(api, data):
    writer = _as_author(api, data)
    pk = _post(data, author=writer)
    response = api.put(_url(pk), json_body={"title": "Replaced"})
    assert response.status == 405, f"PUT {_url(pk)} answered {response.status}, expected 405 (posts change with PATCH)"
    _error(response, "method_not_allowed")


# Queries (list-queries) -----------------------------------------------------------------------


def test_post_list_query_count_does_not_grow(api, data, queries):
    def add_posts(count):
        for _ in range(count):
            _post(data, tags=[_tag(data), _tag(data)])

    add_posts(2)
    with queries.count() as few:
        first = api.get(POSTS)
    add_posts(8)
    with queries.count() as many:
        second = api.get(POSTS)
    assert first.status == second.status == 200, f"GET {POSTS} answered {first.status} and {second.status}, expected 200"
    assert len(_items(second)) == 10, f"GET {POSTS} listed {len(_items(second))} posts; expected all 10"
    assert many.total <= few.total, (
        f"GET {POSTS} ran {few.total} queries for 2 posts, {many.total} for 10: load the authors, categories and "
        f"tags with the posts (select_related, prefetch_related); most repeated, {_most_repeated(many.sql)}"
    )


def _most_repeated(sql):
    """The statement run most often, numbers blanked out (each row's id differs), shortened."""
    shapes = [re.sub(r"\d+", "N", statement) for statement in sql]
    if not shapes:
        return "none"
    shape = max(set(shapes), key=shapes.count)
    _, found, source = shape.partition(" FROM ")  # the columns say less than the table
    return f"{shapes.count(shape)} times: {'SELECT … FROM ' + source[:120] if found else shape[:120]}"
