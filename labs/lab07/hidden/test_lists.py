"""lab07 hidden checks: pages, filters, search, ordering and versions of the post list.

Grader fixtures only. Posts are written with ``data`` (one INSERT each, so their timestamps are
the ones given); requests go through ``api`` with ``Accept: application/json; version=2`` when a
check reads pages, and without it when it reads version 1. Checks that read as a signed-in user
use ``api.authenticate``; the anonymous ones stay under the anonymous rate (20 a minute), and
the grader empties the caches before every check, so no check inherits another's requests.

Who may see what is lab06's: anonymous callers and readers see published posts, an author also
sees their own drafts. Every check here builds on that, and no-hidden-rows asks that no filter,
search or ordering ever shows more.
"""

from __future__ import annotations

import datetime
import email.utils
import itertools
import re

POSTS = "/api/posts/"
V2 = {"Accept": "application/json; version=2"}
WHEN = datetime.datetime(2024, 9, 17, 8, 30, tzinfo=datetime.UTC)
_serial = itertools.count(1)


def _category(data, slug=None):
    n = next(_serial)
    slug = slug or f"grader-topic-{n}"
    return data.create("blog.Category", name=f"Grader topic {slug}", slug=slug)


def _tag(data, slug):
    return data.create("blog.Tag", name=f"grader {slug}", slug=slug)


def _post(data, *, author, category, status="published", published_at=WHEN, **fields):
    n = next(_serial)
    values = {
        "title": f"Grader post {n}",
        "slug": f"grader-post-{n}",
        "body": "Written by the grader.",
        "author": author,
        "category": category,
        "status": status,
        "published_at": published_at if status == "published" else None,
    }
    values.update(fields)
    return data.create("blog.Post", **values)


def _published(data, count, **fields):
    """``count`` published posts by one new author in one new category; their pks."""
    author = fields.pop("author", None) or data.user(role="author")
    category = fields.pop("category", None) or _category(data)
    return [_post(data, author=author, category=category, **fields) for _ in range(count)]


def _ok(response, what="a page"):
    assert response.status == 200, f"{response.request_line} answered {response.status}; expected 200 with {what}"
    return response.json()


def _page(response):
    """The body of a version 2 list: {"count", "next", "previous", "results"}."""
    body = _ok(response)
    keys = sorted(body) if isinstance(body, dict) else "a JSON array" if isinstance(body, list) else str(body)[:60]
    assert keys == ["count", "next", "previous", "results"], (
        f"{response.request_line} (Accept: application/json; version=2) answered {keys}; "
        "expected a page {\"count\", \"next\", \"previous\", \"results\"}"
    )
    return body


def _ids(rows):
    return [row.get("id") for row in rows if isinstance(row, dict)]


def _v2_ids(api, query):
    return _ids(_page(api.get(POSTS + query, headers=V2))["results"])


def _v1_ids(api, query):
    body = _ok(api.get(POSTS + query), "a JSON array")
    assert isinstance(body, list), f"GET {POSTS}{query} without a version answered {str(body)[:80]}; expected version 1's JSON array"
    return _ids(body)


def _error(response, status, code, field=None):
    where = response.request_line
    assert response.status == status, f"{where} answered {response.status}; expected {status} with the code {code!r}"
    body = response.json()
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(error, dict), f"{where} answered {str(body)[:120]}; expected the error body {{\"error\": {{\"code\", \"message\"}}}}"
    assert error.get("code") == code, f"{where} answered {status} with code {error.get('code')!r}; expected {code!r}"
    if field is not None:
        fields = error.get("fields") or {}
        assert field in fields, f"{where} answered 400 naming {sorted(fields)}; expected it to name {field!r}"
    return error


# Pagination (pagination) ----------------------------------------------------------------------


def test_23_posts_come_in_pages_of_10_10_and_3(api, data):
    visible = set(_published(data, 23))
    first = _page(api.get(POSTS, headers=V2))
    assert first["count"] == 23, f"GET {POSTS} (version 2) answered count {first['count']}; expected 23, every published post"
    sizes, seen = [], []
    pages = [first]
    for page_number in (2, 3):
        pages.append(_page(api.get(f"{POSTS}?page={page_number}", headers=V2)))
    for page in pages:
        sizes.append(len(page["results"]))
        seen += _ids(page["results"])
    assert sizes == [10, 10, 3], f"pages 1, 2 and 3 of {POSTS} (version 2) held {sizes} posts; expected [10, 10, 3] (page_size 10)"
    assert len(seen) == len(set(seen)) == 23 and set(seen) == visible, (
        f"pages 1 to 3 of {POSTS} held {len(set(seen))} different posts out of {len(seen)}; expected the 23 published ones, each once"
    )
    links = [(bool(p["next"]), bool(p["previous"])) for p in pages]
    assert links == [(True, False), (True, True), (False, True)], (
        f"(next, previous) of pages 1, 2, 3 are {[(p['next'], p['previous']) for p in pages]}; "
        "expected a next link on pages 1 and 2, a previous link on pages 2 and 3, null otherwise"
    )
    assert "page=2" in pages[0]["next"] and "page=3" in pages[1]["next"], (
        f"page 1's next is {pages[0]['next']!r} and page 2's is {pages[1]['next']!r}; expected links to page=2 and page=3"
    )
    assert "page=2" in pages[2]["previous"], f"page 3's previous is {pages[2]['previous']!r}; expected a link to page=2"


def test_page_size_is_honoured_and_clamped_to_50(api, data):
    _published(data, 55)
    small = _page(api.get(f"{POSTS}?page_size=5", headers=V2))
    assert (small["count"], len(small["results"])) == (55, 5), (
        f"GET {POSTS}?page_size=5 (version 2) answered count {small['count']} with {len(small['results'])} posts; expected 55 and 5"
    )
    big = _page(api.get(f"{POSTS}?page_size=500", headers=V2))
    assert len(big["results"]) == 50 and big["next"], (
        f"GET {POSTS}?page_size=500 (version 2) answered {len(big['results'])} posts; expected 50, the largest page size, and a next link"
    )


def test_a_page_past_the_end_is_404(api, data):
    _published(data, 23)
    _error(api.get(f"{POSTS}?page=4", headers=V2), 404, "not_found")


def test_categories_and_tags_stay_arrays_in_version_2(api, data):
    data.create("blog.Category", name="Grader menu", slug="grader-menu")
    _tag(data, "grader-menu")
    wrong = []
    for path in ("/api/categories/", "/api/tags/"):
        for label, headers in (("version 2", V2), ("no version", {})):
            body = _ok(api.get(path, headers=headers), "a JSON array")
            if not isinstance(body, list):
                shown = sorted(body) if isinstance(body, dict) else str(body)[:60]
                wrong.append(f"GET {path} ({label}) answered {shown}")
    assert not wrong, "; ".join(wrong) + ": categories and tags are short lists editors curate, answered whole as a JSON array in both versions (page only posts and comments)"


def test_comments_come_in_pages_in_version_2(api, data):
    (post,) = _published(data, 1)
    for n in range(12):
        data.create("blog.Comment", post=post, author=data.user(role="reader"), body=f"Comment {n}")
    url = f"{POSTS}{post}/comments/"
    page = _page(api.get(url, headers=V2))
    assert (page["count"], len(page["results"])) == (12, 10), (
        f"GET {url} (version 2) answered count {page['count']} with {len(page['results'])} comments; expected 12 and the first 10"
    )
    body = _ok(api.get(url), "a JSON array")
    assert isinstance(body, list) and len(body) == 12, f"GET {url} without a version answered {str(body)[:80]}; expected the JSON array of all 12 comments (version 1)"


# Stable ordering (stable-order) ---------------------------------------------------------------


def test_equal_values_page_without_repeats_or_gaps(api, data):
    # Pages of the default size (10): this criterion grades the order, not ?page_size=.
    same = _published(data, 15, title="Same title", published_at=WHEN)
    tie_order = sorted(same, reverse=True)
    for ordering in ("title", "-published_at"):
        seen = []
        for page_number in (1, 2):
            seen += _v2_ids(api, f"?ordering={ordering}&page={page_number}")
        assert sorted(seen) == sorted(same) and len(seen) == 15, (
            f"pages 1 and 2 of {POSTS}?ordering={ordering} (version 2, 10 a page) held {len(seen)} posts, "
            f"{len(set(seen))} different, for 15 posts with equal {ordering.lstrip('-')}; expected each exactly once: "
            "end every ordering with a unique field (-id)"
        )
        assert seen == tie_order, (
            f"{POSTS}?ordering={ordering} listed posts of equal {ordering.lstrip('-')} in the id order {seen}; "
            f"expected the tie-breaker -id (newest row first): {tie_order}"
        )


def test_the_default_order_is_newest_first_with_a_tie_breaker(api, data):
    posts = _published(data, 6)
    assert _v2_ids(api, "") == sorted(posts, reverse=True), (
        f"GET {POSTS} (version 2) did not list the posts newest first (-created_at, then -id)"
    )


# Filters (filters) ----------------------------------------------------------------------------


def test_each_filter_alone_and_combined(api, data):
    ada, grace = data.user(role="author", username="grader-ada"), data.user(role="author", username="grader-grace")
    orm, web = _category(data, "grader-orm"), _category(data, "grader-web")
    sql = _tag(data, "grader-sql")
    a = _post(data, author=ada, category=orm, tags=[sql])
    b = _post(data, author=ada, category=web)
    c = _post(data, author=grace, category=orm, tags=[sql])
    d = _post(data, author=grace, category=web)
    api.authenticate(data.user(role="reader"))
    cases = {
        "?author=grader-ada": {a, b},
        "?category=grader-orm": {a, c},
        "?tag=grader-sql": {a, c},
        "?status=published&author=grader-grace": {c, d},
        "?author=grader-ada&category=grader-orm": {a},
        "?author=grader-grace&tag=grader-sql&category=grader-web": set(),
        "?author=nobody-at-all": set(),
    }
    for query, expected in cases.items():
        got = set(_v2_ids(api, query + "&page_size=50"))
        assert got == expected, f"GET {POSTS}{query} (version 2) listed the posts {sorted(got)}; expected {sorted(expected)}"
        v1 = set(_v1_ids(api, query))
        assert v1 == expected, f"GET {POSTS}{query} without a version listed {sorted(v1)}; expected {sorted(expected)}: filters work in both versions"


def test_status_filter_shows_an_authors_own_drafts(api, data):
    author = data.user(role="author")
    category = _category(data)
    drafts = {_post(data, author=author, category=category, status="draft") for _ in range(2)}
    published = _post(data, author=author, category=category)
    api.authenticate(author)
    got = set(_v2_ids(api, "?status=draft"))
    assert got == drafts, f"GET {POSTS}?status=draft as the drafts' author listed {sorted(got)}; expected their two drafts {sorted(drafts)}"
    got = set(_v2_ids(api, "?status=published"))
    assert published in got and not got & drafts, f"GET {POSTS}?status=published listed {sorted(got)}; expected the published posts only"


def test_the_date_range_is_inclusive(api, data):
    author, category = data.user(role="author"), _category(data)
    moments = {
        "aug-31": datetime.datetime(2024, 8, 31, 23, 59, 59, tzinfo=datetime.UTC),
        "sep-01": datetime.datetime(2024, 9, 1, 0, 0, tzinfo=datetime.UTC),
        "sep-15": datetime.datetime(2024, 9, 15, 12, 0, tzinfo=datetime.UTC),
        "sep-30": datetime.datetime(2024, 9, 30, 23, 59, tzinfo=datetime.UTC),
        "oct-01": datetime.datetime(2024, 10, 1, 0, 0, tzinfo=datetime.UTC),
    }
    pk = {name: _post(data, author=author, category=category, published_at=when) for name, when in moments.items()}
    api.authenticate(data.user(role="reader"))
    cases = {
        "?published_after=2024-09-01&published_before=2024-09-30": {"sep-01", "sep-15", "sep-30"},
        "?published_after=2024-09-15T12:00:00Z": {"sep-15", "sep-30", "oct-01"},
        "?published_before=2024-09-15T12:00:00Z": {"aug-31", "sep-01", "sep-15"},
        "?published_after=2024-10-01": {"oct-01"},
    }
    for query, names in cases.items():
        expected = {pk[name] for name in names}
        got = set(_v2_ids(api, query + "&page_size=50"))
        labels = sorted(name for name, p in pk.items() if p in got)
        assert got == expected, f"GET {POSTS}{query} listed the posts published {labels}; expected {sorted(names)} (both ends inclusive; a date covers its whole day)"


def test_a_bad_filter_value_is_400_naming_it(api, data):
    _published(data, 1)
    api.authenticate(data.user(role="reader"))
    for query, field in (
        ("?published_after=yesterday", "published_after"),
        ("?published_before=2024-13-45", "published_before"),
        ("?status=lost", "status"),
        ("?category=no-such-category", "category"),
        ("?tag=no-such-tag", "tag"),
    ):
        _error(api.get(POSTS + query, headers=V2), 400, "validation_error", field)


# Nothing hidden leaks (no-hidden-rows) --------------------------------------------------------


def test_filters_search_and_ordering_never_show_hidden_posts(api, data):
    owner = data.user(role="author", username="grader-owner")
    category = _category(data, "grader-secrets")
    hidden = {
        _post(data, author=owner, category=category, status=status, title=f"Secret plan {status}", body="Secret plan.")
        for status in ("draft", "in_review", "archived")
    }
    shown = _post(data, author=owner, category=category, title="Public plan", body="A plan.")
    queries = [
        "?status=draft", "?status=in_review", "?status=archived", "?search=secret", "?search=plan",
        "?author=grader-owner", "?category=grader-secrets", "?ordering=title", "?ordering=-created_at",
        "?published_before=2100-01-01", "?page_size=50",
    ]
    callers = {"an anonymous caller": None, "a reader": data.user(role="reader"), "another author": data.user(role="author")}
    for who, user in callers.items():
        api.authenticate(user)
        for query in queries:
            got = set(_v2_ids(api, query + ("&" if "?" in query else "?") + "page_size=50"))
            leaked = sorted(got & hidden)
            assert not leaked, f"GET {POSTS}{query} as {who} listed the unpublished posts {leaked} of another author; filters, search and ordering must narrow the posts the caller may see, never widen them"
        assert shown in set(_v2_ids(api, "?search=plan&page_size=50")), f"GET {POSTS}?search=plan as {who} did not find the published post {shown}"
        page = _page(api.get(POSTS + "?status=draft", headers=V2))
        assert page["count"] == 0, f"GET {POSTS}?status=draft as {who} answered count {page['count']}; expected 0: the count must not reveal others' drafts either"
        leaked = sorted(set(_v1_ids(api, "?search=secret")) & hidden)
        assert not leaked, f"GET {POSTS}?search=secret (version 1) as {who} listed the unpublished posts {leaked}"


# Search (search, search-stemming) -------------------------------------------------------------


def test_search_finds_words_in_title_or_body(api, data):
    author, category = data.user(role="author"), _category(data)
    in_title = _post(data, author=author, category=category, title="Indexes explained", body="Why lookups are fast.")
    in_body = _post(data, author=author, category=category, title="Caching", body="Indexes help, caches help more.")
    _post(data, author=author, category=category, title="Unrelated", body="Nothing to see.")
    api.authenticate(data.user(role="reader"))
    cases = {"indexes": {in_title, in_body}, "INDEXES caching": {in_body}, "lookups": {in_title}, "zeppelin": set()}
    for words, expected in cases.items():
        query = f"?search={words.replace(' ', '+')}"
        got = set(_v2_ids(api, query))
        assert got == expected, f"GET {POSTS}{query} listed {sorted(got)}; expected {sorted(expected)} (every word, in the title or the body, any case)"
        assert set(_v1_ids(api, query)) == expected, f"GET {POSTS}{query} without a version listed other posts than version 2"


def test_search_stems_and_ranks_on_postgresql(api, data):
    author, category = data.user(role="author"), _category(data)
    in_body = _post(data, author=author, category=category, title="Release notes", body="The guide was published last week.")
    in_title = _post(data, author=author, category=category, title="Publishing checklist", body="Steps before release.")
    _post(data, author=author, category=category, title="Unrelated", body="Nothing to see.")
    api.authenticate(data.user(role="reader"))
    got = _v2_ids(api, "?search=publishing")
    assert set(got) == {in_body, in_title}, (
        f"GET {POSTS}?search=publishing listed {got}; expected both posts that say publish(ed/ing): "
        "use SearchVector and SearchQuery(..., search_type=\"websearch\", config=\"english\")"
    )
    assert got[0] == in_title, f"GET {POSTS}?search=publishing listed {got}; expected the title match {in_title} first (rank, title weighted above body)"


# Ordering (ordering) --------------------------------------------------------------------------


def test_ordering_follows_the_allowed_fields(api, data):
    author, category = data.user(role="author"), _category(data)
    early = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    late = datetime.datetime(2024, 6, 1, tzinfo=datetime.UTC)
    rows = {
        "b-early": _post(data, author=author, category=category, title="Bravo", published_at=early),
        "a-late": _post(data, author=author, category=category, title="Alpha", published_at=late),
        "c-late": _post(data, author=author, category=category, title="Charlie", published_at=late),
        "a-early": _post(data, author=author, category=category, title="Alpha", published_at=early),
    }
    api.authenticate(data.user(role="reader"))
    cases = {
        "title": ["a-early", "a-late", "b-early", "c-late"],
        "-title": ["c-late", "b-early", "a-early", "a-late"],
        "published_at": ["a-early", "b-early", "c-late", "a-late"],
        "-published_at,title": ["a-late", "c-late", "a-early", "b-early"],
        "-published_at,-title": ["c-late", "a-late", "b-early", "a-early"],
    }
    names = {pk: name for name, pk in rows.items()}
    for ordering, expected in cases.items():
        got = [names.get(pk, pk) for pk in _v2_ids(api, f"?ordering={ordering}")]
        assert got == expected, (
            f"GET {POSTS}?ordering={ordering} listed {got}; expected {expected} "
            "(equal values broken by -id: the newest row first)"
        )


def test_ordering_by_another_field_is_400_naming_the_allowed_ones(api, data):
    _published(data, 1)
    api.authenticate(data.user(role="reader"))
    for ordering in ("body", "author__password", "id__foo", "title,body", "-status"):
        error = _error(api.get(f"{POSTS}?ordering={ordering}", headers=V2), 400, "validation_error", "ordering")
        said = " ".join(error["fields"]["ordering"]) + " " + error.get("message", "")
        missing = [f for f in ("published_at", "created_at", "title") if f not in said]
        assert not missing, f"GET {POSTS}?ordering={ordering} answered 400 saying {said[:160]!r}; expected it to list the allowed fields (missing {missing})"
    _error(api.get(f"{POSTS}?ordering=body"), 400, "validation_error", "ordering")  # version 1 too


# Versions (versioning) ------------------------------------------------------------------------


def _deprecation(response):
    """The three deprecation headers of ``response`` (missing ones as None)."""
    return {name: response.headers.get(name) for name in ("deprecation", "sunset", "link")}


def test_version_1_is_an_array_marked_deprecated(api, data):
    (post,) = _published(data, 1)
    responses = [api.get(POSTS), api.get(f"{POSTS}{post}/"), api.get("/api/categories/"), api.get(f"{POSTS}987654321/")]
    assert isinstance(_ok(responses[0], "a JSON array"), list), f"GET {POSTS} without a version answered {str(responses[0].json())[:80]}; expected version 1's JSON array"
    for response in responses:
        headers = _deprecation(response)
        where = f"{response.request_line} (no version asked, so version 1) answered {response.status}"
        assert headers["deprecation"] and re.fullmatch(r"@\d+", headers["deprecation"].strip()), (
            f"{where} with Deprecation: {headers['deprecation']!r}; expected Deprecation: @<seconds since the epoch> (RFC 9745)"
        )
        since = int(headers["deprecation"].strip()[1:])
        try:
            sunset = email.utils.parsedate_to_datetime(headers["sunset"] or "")
        except (TypeError, ValueError):
            sunset = None
        assert sunset is not None and headers["sunset"].strip().endswith("GMT"), (
            f"{where} with Sunset: {headers['sunset']!r}; expected an HTTP-date such as 'Mon, 01 Mar 2027 00:00:00 GMT' (RFC 8594)"
        )
        assert sunset.timestamp() > since, f"{where} with a Sunset ({headers['sunset']}) that is not after its Deprecation date"
        link = headers["link"] or ""
        assert re.search(r'<[^>]+>\s*;\s*rel="?deprecation"?', link), (
            f"{where} with Link: {link!r}; expected Link: <URL of the migration notes>; rel=\"deprecation\""
        )


def test_version_2_is_a_page_without_deprecation_headers(api, data):
    (post,) = _published(data, 1)
    for path in (POSTS, f"{POSTS}{post}/", "/api/categories/"):
        response = api.get(path, headers=V2)
        _ok(response, "version 2's answer")
        headers = _deprecation(response)
        assert headers["deprecation"] is None and headers["sunset"] is None and "deprecation" not in (headers["link"] or ""), (
            f"GET {path} (version 2) answered the deprecation headers {headers}; only version 1 is deprecated"
        )
    _page(api.get(POSTS, headers=V2))


def test_an_unknown_version_is_406(api, data):
    _published(data, 1)
    for version in ("9", "1.5"):
        response = api.get(POSTS, headers={"Accept": f"application/json; version={version}"})
        _error(response, 406, "not_acceptable")


# Queries (flat-queries) -----------------------------------------------------------------------


def _tagged_posts(data, count, tags, category):
    for _ in range(count):
        _post(data, author=data.user(role="author"), category=category, tags=tags, body="Queries and indexes.")


def test_a_filtered_page_costs_the_same_queries_for_5_or_30_posts(api, data, queries):
    # A page of the default size (10), so ?page_size= is not part of what this criterion grades;
    # 5 posts fill half a page, 30 a whole one, and both must cost the same queries.
    category = _category(data, "grader-queries")
    tags = [_tag(data, "grader-q1"), _tag(data, "grader-q2")]
    api.authenticate(data.user(role="reader"))
    query = f"{POSTS}?category=grader-queries&tag=grader-q1&search=queries&ordering=-published_at"
    counts = []
    for count, total in ((5, 5), (25, 30)):
        _tagged_posts(data, count, tags, category)
        with queries.count() as counted:
            page = _page(api.get(query, headers=V2))
        counts.append(counted.total)
        shown = len(page["results"])
        assert shown == min(total, 10), (
            f"GET {query} (version 2) showed {shown} posts on its first page; expected {min(total, 10)} of the {total} that match "
            "(this check relies on ?category=, ?tag=, ?search= and ?ordering= working: if the filters, search or ordering "
            "criteria fail too, fix those first)"
        )
    assert counts[0] == counts[1], (
        f"GET {query} (version 2) ran {counts[0]} queries for 5 posts and {counts[1]} for 30; expected the same number: "
        "keep post_list()'s select_related and prefetch_related under the filters, and let nothing in the page load rows one by one"
    )
