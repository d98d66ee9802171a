"""lab09 hidden checks: the cached post list (hits run no SQL, no caller sees another's view,
writes through the services invalidate, and Redis down means slower, never errors).

The lists cache is the grader's Redis (``LIST_CACHE_URL``), emptied before every check. Rows are
written with ``data`` *before* the first list request of a check; every change after that goes
through the API or the admin (the services), which is what the cache must follow. Query counts
come from ``queries``. Each check runs with real commits (``transactional_db``), so that what
the services do after a commit (``transaction.on_commit``) happens as in production; ``redis_outage`` stops the grader's Redis for one check.
"""

from __future__ import annotations

import datetime
import itertools

POSTS = "/api/posts/"
V2 = {"Accept": "application/json; version=2"}
WHEN = datetime.datetime(2024, 9, 17, 8, 30, tzinfo=datetime.UTC)
_serial = itertools.count(1)


def _category(data):
    n = next(_serial)
    return data.create("blog.Category", name=f"Grader cache {n}", slug=f"grader-cache-{n}")


def _post(data, *, author, category, status="published", **fields):
    n = next(_serial)
    values = {
        "title": f"Grader cached {n}",
        "slug": f"grader-cached-{n}",
        "body": "Written by the grader.",
        "author": author,
        "category": category,
        "status": status,
        "published_at": WHEN if status == "published" else None,
    }
    values.update(fields)
    return data.create("blog.Post", **values)


def _ids(response):
    assert response.status == 200, f"{response.request_line} answered {response.status}; expected 200"
    body = response.json()
    rows = body["results"] if isinstance(body, dict) and "results" in body else body
    return sorted(row.get("id") for row in rows if isinstance(row, dict))


def _as(api, user):
    api.authenticate(user)


def _served_from_cache(api, queries, path, headers=None, who="an anonymous caller"):
    """Ask for ``path`` twice; fail unless the second answer ran no SQL (it came from the cache).

    A list that is not cached at all cannot leak or go stale: the checks of cache-per-caller,
    cache-invalidation and redis-down first make sure the cache is in use.
    """
    api.get(path, headers=headers or {})
    with queries.count() as counted:
        response = api.get(path, headers=headers or {})
    assert counted.total == 0, (
        f"GET {path} asked twice by {who} ran {counted.total} SQL queries the second time: the "
        "list is not served from the cache, so this criterion cannot be shown yet (start with "
        "the cache-hit criterion)"
    )
    return response


# cache-hit -----------------------------------------------------------------------------------


def test_a_repeated_list_is_served_without_sql(transactional_db, data, api, queries):
    author = data.user(role="author")
    category = _category(data)
    for _ in range(3):
        _post(data, author=author, category=category)
    for headers, what in (({}, "version 1"), (V2, "version 2")):
        first = api.get(POSTS, headers=headers)
        with queries.count() as counted:
            second = api.get(POSTS, headers=headers)
        assert second.status == 200 and second.json() == first.json(), (
            f"GET {POSTS} ({what}) answered differently the second time: a cached answer must be "
            "the answer"
        )
        assert counted.total == 0, (
            f"GET {POSTS} ({what}) asked a second time, nothing changed in between, ran "
            f"{counted.total} SQL queries; a cache hit must run none. First: "
            + "; ".join(counted.sql[:2])
        )


def test_each_page_filter_and_ordering_is_cached_apart(transactional_db, data, api):
    author = data.user(role="author")
    category = _category(data)
    other = _category(data)
    pks = [_post(data, author=author, category=category) for _ in range(12)]
    lone = _post(data, author=author, category=other)
    page1 = _ids(api.get(POSTS + "?page=1", headers=V2))
    page2 = _ids(api.get(POSTS + "?page=2", headers=V2))
    filtered = _ids(api.get(POSTS + f"?category={data.values('blog.Category', 'slug', pk=other)[0]['slug']}", headers=V2))
    everything = _ids(api.get(POSTS))
    assert len(page1) == 10 and len(page2) == 3 and not set(page1) & set(page2), (
        f"Pages 1 and 2 of {POSTS} (version 2) came back as {page1} and {page2}: each page must be "
        "cached under a key of its own"
    )
    assert filtered == [lone], f"?category= answered {filtered}; expected [{lone}]: the query string belongs in the key"
    assert everything == sorted([*pks, lone]), (
        f"Version 1 answered {everything}: versions must be cached apart"
    )


# cache-per-caller ----------------------------------------------------------------------------


def test_a_draft_never_reaches_another_caller_through_the_cache(transactional_db, data, api, queries):
    author = data.user(role="author")
    other_author = data.user(role="author")
    reader = data.user(role="reader")
    category = _category(data)
    public = _post(data, author=author, category=category)
    draft = _post(data, author=author, category=category, status="draft")
    for headers, what in (({}, "version 1"), (V2, "version 2")):
        _as(api, author)
        own = _ids(_served_from_cache(api, queries, POSTS, headers, who="the author"))
        assert draft in own, f"The author's own list ({what}) lacked their draft {draft} (lab06)"
        for who, user in (("an anonymous caller", None), ("a reader", reader), ("another author", other_author)):
            _as(api, user)
            got = _ids(api.get(POSTS, headers=headers))
            assert draft not in got and public in got, (
                f"Right after its author listed {POSTS} ({what}), {who} got {got}, which "
                f"{'holds the draft ' + str(draft) if draft in got else 'lacks the published post ' + str(public)}: "
                "the cache key must say whose view a list is (anonymous callers and readers may "
                "share one; an author's own lists are theirs alone)"
            )
    _as(api, None)
    # And the other way round: a shared list cached first never hides the author's draft.
    api.get(POSTS + "?ordering=title")
    _as(api, author)
    own = _ids(api.get(POSTS + "?ordering=title"))
    _as(api, None)
    assert draft in own, (
        f"After an anonymous caller listed {POSTS}?ordering=title, its author got {own}, without "
        f"their draft {draft}: they were served the anonymous caller's cached view"
    )


# cache-invalidation --------------------------------------------------------------------------


def test_publishing_editing_archiving_and_deleting_show_at_once(transactional_db, data, api, queries):
    author = data.user(role="author")
    editor = data.user(role="editor")
    admin = data.user(role="admin")
    category = _category(data)
    kept = _post(data, author=author, category=category)
    changing = _post(data, author=author, category=category, title="Grader before edit")
    in_review = _post(data, author=author, category=category, status="in_review")
    doomed = _post(data, author=author, category=category)
    archived = _post(data, author=author, category=category)

    def listed():
        _as(api, None)
        v1 = api.get(POSTS)
        v2 = api.get(POSTS + "?page=1", headers=V2)
        return _ids(v1), _ids(v2), v1.json()

    _served_from_cache(api, queries, POSTS)
    _served_from_cache(api, queries, POSTS + "?page=1", V2)
    before, _, _ = listed()
    assert before == sorted([kept, changing, doomed, archived])
    problems = []

    _as(api, editor)
    moved = api.post(f"{POSTS}{in_review}/transition/", json_body={"to": "published"})
    v1, v2, _ = listed()
    if moved.status != 200 or in_review not in v1 or in_review not in v2:
        problems.append(f"after publishing post {in_review} (answered {moved.status}) the lists were {v1} and {v2}")

    _as(api, editor)
    edited = api.patch(f"{POSTS}{changing}/", json_body={"title": "Grader after edit"})
    _, _, body = listed()
    titles = {row.get("id"): row.get("title") for row in body if isinstance(row, dict)}
    if edited.status != 200 or titles.get(changing) != "Grader after edit":
        problems.append(f"after editing post {changing}'s title (answered {edited.status}) the list showed {titles.get(changing)!r}")

    status = data.admin_action("blog.Post", "archive", [archived])
    v1, v2, _ = listed()
    if archived in v1 or archived in v2:
        problems.append(f"after archiving post {archived} in the admin (answered {status}) it was still listed")

    _as(api, admin)
    deleted = api.delete(f"{POSTS}{doomed}/")
    v1, v2, _ = listed()
    if deleted.status != 204 or doomed in v1 or doomed in v2:
        problems.append(f"after deleting post {doomed} (answered {deleted.status}) it was still listed")
    _as(api, None)
    assert not problems, (
        "The cached lists did not follow the writes: " + "; ".join(problems) + ". Invalidate "
        "in the services (post_transition, post_update, post_archive, post_delete, post_create), "
        "after the commit: transaction.on_commit(post_lists_changed)"
    )


# redis-down ----------------------------------------------------------------------------------


def test_without_redis_answers_are_slower_never_errors(transactional_db, data, api, queries, redis_outage):
    author = data.user(role="author")
    editor = data.user(role="editor")
    category = _category(data)
    pks = [_post(data, author=author, category=category) for _ in range(3)]
    problems = []
    for headers, what in (({}, "version 1"), (V2, "version 2")):
        for _ in range(2):
            response = api.get(POSTS, headers=headers)
            if response.status != 200:
                problems.append(f"GET {POSTS} ({what}) answered {response.status}")
            elif _ids(response) != sorted(pks):
                problems.append(f"GET {POSTS} ({what}) listed {_ids(response)}, expected {sorted(pks)}")
    _as(api, editor)
    edited = api.patch(f"{POSTS}{pks[0]}/", json_body={"title": "Grader edit without Redis"})
    _as(api, None)
    if edited.status != 200:
        problems.append(f"PATCH {POSTS}{pks[0]}/ answered {edited.status}")
    redis_outage.restore()
    # Back up: the list is cached again (a client that gave up on Redis for good would not).
    _served_from_cache(api, queries, POSTS)
    assert not problems, (
        "With the cache's Redis down: " + "; ".join(problems) + ". Treat a cache that cannot be "
        "reached as a miss: catch redis.exceptions.RedisError (and OSError) around every cache "
        "read, write and invalidation, log it, and answer from the database"
    )
