"""lab06 hidden checks: the editorial workflow, the audit trail and a post's history.

Grader fixtures only. Posts are made with ``data`` or through the API; every move is a
``POST /api/posts/{id}/transition/ {"to": ...}`` by the caller the check names. The audit trail
is read as rows of ``blog.AuditEntry`` (the model the handout specifies), the history as the
endpoint answers it.
"""

from __future__ import annotations

import datetime
import itertools
import re

POSTS = "/api/posts/"
AUDIT = "blog.AuditEntry"
WHEN = datetime.datetime(2024, 9, 17, 8, 30, tzinfo=datetime.UTC)
_serial = itertools.count(1)


def _cast(data):
    roles = {"reader": "reader", "owner": "author", "other": "author", "editor": "editor", "admin": "admin"}
    return {name: data.user(role=role, username=f"grader-{name}-{next(_serial)}") for name, role in roles.items()}


def _category(data):
    n = next(_serial)
    return data.create("blog.Category", name=f"Grader flow {n}", slug=f"grader-flow-{n}")


def _post(data, author, status="draft", **fields):
    n = next(_serial)
    values = {
        "title": f"Grader story {n}",
        "slug": f"grader-story-{n}",
        "body": "Written by the grader.",
        "author": author,
        "category": _category(data),
        "status": status,
        "published_at": WHEN if status == "published" else None,
    }
    values.update(fields)
    return data.create("blog.Post", **values)


def _move(api, pk, to, note=None):
    body = {"to": to} if note is None else {"to": to, "note": note}
    return api.post(f"{POSTS}{pk}/transition/", json_body=body)


def _row(data, pk):
    return data.values("blog.Post", "status", "published_at", pk=pk)[0]


def _error(response, status, code):
    where = response.request_line
    assert response.status == status, f"{where} answered {response.status}; expected {status} with the code {code!r}"
    body = response.json()
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(error, dict) and error.get("code") == code, (
        f"{where} answered {status} with {str(body)[:150]}; expected the error body with the code {code!r}"
    )
    message = error.get("message")
    assert isinstance(message, str) and message.strip(), f"{where}: the error has no message for people (got {message!r})"
    return error


def _ok(response, status_after):
    where = response.request_line
    assert response.status == 200, f"{where} answered {response.status}; expected 200 with the post"
    body = response.json()
    got = body.get("status") if isinstance(body, dict) else body
    assert got == status_after, f"{where} answered 200 with the status {got!r}; expected the post as it is now, {status_after!r}"
    return body


# The moves (workflow-moves) -------------------------------------------------------------------


def test_a_post_is_submitted_published_and_archived(api, data):
    cast = _cast(data)
    pk = _post(data, cast["owner"])
    api.authenticate(cast["owner"])
    _ok(_move(api, pk, "in_review"), "in_review")
    assert _row(data, pk)["status"] == "in_review", "the author's submit answered 200 but the post is not in_review in the database"
    api.authenticate(cast["editor"])
    body = _ok(_move(api, pk, "published", "Ready."), "published")
    row = _row(data, pk)
    assert row["status"] == "published" and row["published_at"], f"after an editor's publish the post is {row}; expected published, with published_at set"
    assert body.get("published_at"), f"the publish answered published_at {body.get('published_at')!r}; expected the date it was published"
    api.authenticate(cast["admin"])
    _ok(_move(api, pk, "archived"), "archived")
    assert _row(data, pk)["status"] == "archived", "the admin's archive answered 200 but the post is not archived in the database"


def test_editors_send_back_and_unpublish_and_admins_submit(api, data):
    cast = _cast(data)
    review = _post(data, cast["owner"], "in_review")
    published = _post(data, cast["owner"], "published")
    draft = _post(data, cast["owner"], "draft")
    api.authenticate(cast["editor"])
    _ok(_move(api, review, "draft", "Needs a source."), "draft")
    _ok(_move(api, published, "draft"), "draft")
    row = _row(data, published)
    assert row == {"status": "draft", "published_at": None}, f"after an editor unpublished a post it is {row}; expected a draft with published_at cleared"
    api.authenticate(cast["admin"])
    _ok(_move(api, draft, "in_review"), "in_review")


# The guards (workflow-guards) -----------------------------------------------------------------


def test_an_author_cannot_publish_their_own_post(api, data):
    cast = _cast(data)
    pk = _post(data, cast["owner"], "in_review")
    api.authenticate(cast["owner"])
    _error(_move(api, pk, "published"), 403, "permission_denied")
    assert _row(data, pk)["status"] == "in_review", "the author's publish was refused but the post's status changed"


def test_moves_the_workflow_does_not_have_are_409(api, data):
    cast = _cast(data)
    cells = [("editor", "draft", "published"), ("admin", "published", "in_review"), ("editor", "archived", "published"), ("owner", "draft", "archived"), ("admin", "in_review", "in_review")]
    wrong = []
    for caller, status, to in cells:
        pk = _post(data, cast["owner"], status)
        api.authenticate(cast[caller])
        response = _move(api, pk, to)
        body = response.json() if response.status != 500 else {}
        code = body.get("error", {}).get("code") if isinstance(body, dict) and isinstance(body.get("error"), dict) else None
        if (response.status, code) != (409, "invalid_transition"):
            wrong.append(f"{caller} moving a {status} post to {to}: got {response.status} {code or ''}".rstrip() + ", expected 409 invalid_transition")
        elif _row(data, pk)["status"] != status:
            wrong.append(f"{caller} moving a {status} post to {to} answered 409 but changed the post")
    assert not wrong, "; ".join(wrong) + " (a move outside the workflow's table is a 409, whoever asks)"


def test_callers_who_may_not_make_a_move_are_403(api, data):
    cast = _cast(data)
    cells = [
        ("reader", "published", "draft"),
        ("other", "published", "archived"),
        ("editor", "draft", "in_review"),
        ("owner", "in_review", "draft"),
        ("owner", "published", "archived"),
    ]
    wrong = []
    for caller, status, to in cells:
        pk = _post(data, cast["owner"], status)
        api.authenticate(cast[caller])
        response = _move(api, pk, to)
        body = response.json() if response.status != 500 else {}
        code = body.get("error", {}).get("code") if isinstance(body, dict) and isinstance(body.get("error"), dict) else None
        who = "the post's author" if caller == "owner" else caller
        if (response.status, code) != (403, "permission_denied"):
            wrong.append(f"{who} moving a {status} post to {to}: got {response.status} {code or ''}".rstrip() + ", expected 403 permission_denied")
        elif _row(data, pk)["status"] != status:
            wrong.append(f"{who} moving a {status} post to {to} answered 403 but changed the post")
    assert not wrong, "; ".join(wrong) + " (a move the workflow has, by someone who may not make it, is a 403)"


def test_an_unknown_status_is_400_naming_to(api, data):
    cast = _cast(data)
    pk = _post(data, cast["owner"])
    api.authenticate(cast["editor"])
    error = _error(_move(api, pk, "live"), 400, "validation_error")
    assert "to" in (error.get("fields") or {}), f"the 400 for {{\"to\": \"live\"}} names the fields {error.get('fields')}; expected 'to'"


def test_a_post_the_caller_cannot_see_cannot_be_moved(api, data):
    cast = _cast(data)
    pk = _post(data, cast["owner"])
    api.authenticate(cast["other"])
    _error(_move(api, pk, "in_review"), 404, "not_found")
    api.authenticate(None)
    response = _move(api, _post(data, cast["owner"], "published"), "draft")
    assert response.status == 401, f"an anonymous {response.request_line} answered {response.status}; expected 401"


def test_status_author_and_dates_cannot_be_set_directly(api, data):
    cast = _cast(data)
    pk = _post(data, cast["owner"], title="Grader own draft")
    api.authenticate(cast["owner"])
    sneaky = {"status": "published", "published_at": "2024-01-01T00:00:00Z", "author": cast["other"]}
    patched = api.patch(f"{POSTS}{pk}/", json_body={"title": "Grader own draft, again", **sneaky})
    assert patched.status in (200, 400), f"PATCH {POSTS}{pk}/ with status, published_at and author answered {patched.status}; expected 200 (ignored) or 400"
    row = data.values("blog.Post", "status", "published_at", "author", pk=pk)[0]
    assert row == {"status": "draft", "published_at": None, "author": cast["owner"]}, (
        f"after PATCH {POSTS}{pk}/ with {sneaky} the post is {row}; status, published_at and author must never be set "
        "through PATCH: leave them out of PostInputSerializer (the workflow has its own endpoint)"
    )
    title = f"Grader sneaky {next(_serial)}"
    created = api.post(POSTS, json_body={"title": title, "body": "B.", "category": _category(data), **sneaky})
    assert created.status in (201, 400), f"POST {POSTS} with status published answered {created.status}; expected 201 (ignored) or 400"
    rows = data.values("blog.Post", "status", "published_at", "author", title=title)
    assert rows in ([], [{"status": "draft", "published_at": None, "author": cast["owner"]}]), (
        f"POST {POSTS} with {sneaky} stored {rows}; a new post is always a draft by the caller"
    )


# The audit trail (audit-trail) ----------------------------------------------------------------


def _entries(data, pk):
    return data.values(AUDIT, "action", "actor", "from_status", "to_status", "changes", "note", "created_at", post=pk)


def _flow(api, data, cast):
    """Create a post through the API as the owner, change its title, submit it; an editor
    publishes it with a note. Returns the post's pk."""
    api.authenticate(cast["owner"])
    created = api.post(POSTS, json_body={"title": "Grader audited", "body": "B.", "category": _category(data)})
    assert created.status == 201, f"POST {POSTS} as an author answered {created.status}, expected 201"
    pk = created.json().get("id")
    patched = api.patch(f"{POSTS}{pk}/", json_body={"title": "Grader audited, better"})
    assert patched.status == 200, f"PATCH {POSTS}{pk}/ by its author (a draft) answered {patched.status}, expected 200"
    submitted = _move(api, pk, "in_review")
    assert submitted.status == 200, f"{submitted.request_line} {{\"to\": \"in_review\"}} by the post's author answered {submitted.status}, expected 200"
    api.authenticate(cast["editor"])
    published = _move(api, pk, "published", "Checked the sources.")
    assert published.status == 200, f"{published.request_line} {{\"to\": \"published\"}} by an editor answered {published.status}, expected 200"
    return pk


def test_each_change_writes_one_entry_with_who_what_and_when(api, data):
    cast = _cast(data)
    pk = _flow(api, data, cast)
    rows = _entries(data, pk)
    got = [(r["action"], r["actor"], r["to_status"]) for r in rows]
    expected = [
        ("created", cast["owner"], "draft"),
        ("updated", cast["owner"], "draft"),
        ("submitted", cast["owner"], "in_review"),
        ("published", cast["editor"], "published"),
    ]
    assert got == expected, (
        f"the post's audit entries (action, actor, to_status) are {got}; expected {expected}: each service writes one "
        "AuditEntry for what it did, with the acting user"
    )
    moves = [(r["from_status"], r["note"]) for r in rows[2:]]
    assert moves == [("draft", ""), ("in_review", "Checked the sources.")], (
        f"the submit and publish entries have (from_status, note) {moves}; expected [('draft', ''), ('in_review', 'Checked the sources.')]"
    )
    assert rows[1]["changes"] == {"title": ["Grader audited", "Grader audited, better"]}, (
        f"the 'updated' entry records the changes {rows[1]['changes']}; expected {{'title': [old, new]}} for each field that changed"
    )
    assert all(r["created_at"] for r in rows), "an audit entry has no created_at"


def test_refused_and_failed_actions_write_no_entry(api, data):
    cast = _cast(data)
    data.create("blog.BannedTerm", term="grader contraband", reason="Grader's banned term.")
    draft = _post(data, cast["owner"])
    review = _post(data, cast["owner"], "in_review")
    before = data.count(AUDIT)
    published = _post(data, cast["owner"], "published")
    attempts = []
    api.authenticate(cast["admin"])
    attempts.append(_move(api, review, "in_review"))  # not a move: 409
    attempts.append(_move(api, draft, "live"))  # not a status: 400
    api.authenticate(cast["reader"])
    attempts.append(_move(api, published, "draft"))  # not theirs to make: 403
    api.authenticate(cast["owner"])
    attempts.append(api.patch(f"{POSTS}{draft}/", json_body={"body": "Now with grader contraband."}))  # banned: 400
    succeeded = [r.request_line for r in attempts if r.status < 400]
    assert not succeeded, f"these requests should have been refused but answered 2xx: {succeeded}"
    after = data.count(AUDIT)
    assert after == before, (
        f"{after - before} audit entrie(s) were written for requests that were refused: write the entry inside the "
        "service's transaction, after every check, so a refused or failed change leaves no trace"
    )


def test_an_edit_that_changes_nothing_writes_no_entry(api, data):
    cast = _cast(data)
    pk = _post(data, cast["owner"], title="Grader unchanged", body="Same body.")
    api.authenticate(cast["owner"])
    response = api.patch(f"{POSTS}{pk}/", json_body={"title": "Grader unchanged", "body": "Same body."})
    assert response.status == 200, f"PATCH {POSTS}{pk}/ by its author with the title and body it already has answered {response.status}, expected 200"
    rows = _entries(data, pk)
    assert rows == [], (
        f"PATCH {POSTS}{pk}/ with the values the post already has wrote the audit entries {[r['action'] for r in rows]}; "
        "expected none: an 'updated' entry records what changed, and nothing did"
    )


def test_each_entry_names_the_caller_who_acted(api, data):
    """Editors and admins act on the author's posts: the entries name them, not the author."""
    cast = _cast(data)
    edited = _post(data, cast["owner"], title="Grader edited by an editor")
    submitted = _post(data, cast["owner"])
    deleted = _post(data, cast["owner"], "published", title="Grader deleted by an admin")
    api.authenticate(cast["editor"])
    steps = [api.patch(f"{POSTS}{edited}/", json_body={"title": "Grader edited, by the editor"})]
    api.authenticate(cast["admin"])
    steps += [_move(api, submitted, "in_review"), api.delete(f"{POSTS}{deleted}/")]
    failed = [f"{r.request_line}: {r.status}" for r, ok in zip(steps, (200, 200, 204), strict=True) if r.status != ok]
    assert not failed, f"as an editor (PATCH) and an admin (submit, DELETE) these answered: {failed}; expected 200, 200 and 204"
    who = {cast["owner"]: "the post's author", cast["editor"]: "the editor", cast["admin"]: "the admin", None: "nobody"}
    cells = [
        ("the editor's PATCH", data.values(AUDIT, "actor", post=edited, action="updated"), cast["editor"]),
        ("the admin's submit", data.values(AUDIT, "actor", post=submitted, action="submitted"), cast["admin"]),
        ("the admin's DELETE", data.values(AUDIT, "actor", post_ref=deleted, action="deleted"), cast["admin"]),
    ]
    wrong = [
        f"{what} wrote {len(rows)} entries" if len(rows) != 1 else f"{what} is credited to {who.get(rows[0]['actor'], rows[0]['actor'])}"
        for what, rows, actor in cells
        if len(rows) != 1 or rows[0]["actor"] != actor
    ]
    assert not wrong, "; ".join(wrong) + ": each entry's actor is the user who made the request (request.user), passed to the service as actor"


def test_the_history_outlives_a_deleted_post(api, data):
    cast = _cast(data)
    pk = _post(data, cast["owner"], title="Grader doomed draft")
    api.authenticate(cast["owner"])
    response = api.delete(f"{POSTS}{pk}/")
    assert response.status == 204, f"the author's DELETE of their own draft answered {response.status}, expected 204"
    rows = data.values(AUDIT, "action", "actor", "post", "post_ref", "post_title", post_ref=pk)
    expected = [{"action": "deleted", "actor": cast["owner"], "post": None, "post_ref": pk, "post_title": "Grader doomed draft"}]
    assert rows == expected, (
        f"after the delete the audit entries for post {pk} are {rows}; expected {expected}: write a 'deleted' entry before "
        "the post goes, keep its id and title in post_ref and post_title, and let post be SET_NULL"
    )


def test_audit_entries_are_in_the_admin(models):
    assert models.admin(AUDIT) is not None, (
        "blog.AuditEntry is not registered in the admin: register it in blog/admin.py, read-only"
    )


# The history (history) ------------------------------------------------------------------------


def _entry(data, post, action, actor, from_status, to_status, changes=None, note=""):
    """One AuditEntry row written by the grader (the model the brief specifies), so the history
    checks judge the endpoint, not the services that write entries (audit-trail's job)."""
    title = data.values("blog.Post", "title", pk=post)[0]["title"]
    return data.create(
        AUDIT, post=post, post_ref=post, post_title=title, action=action, actor=actor,
        from_status=from_status, to_status=to_status, changes=changes or {}, note=note,
    )


def test_history_lists_the_posts_entries_oldest_first(api, data):
    cast = _cast(data)
    pk = _post(data, cast["owner"], "published", title="Grader audited, better")
    other = _post(data, cast["owner"], "published")
    _entry(data, pk, "created", cast["owner"], "", "draft")
    _entry(data, other, "created", cast["owner"], "", "draft")  # another post's: not in this history
    _entry(data, pk, "updated", cast["owner"], "draft", "draft", {"title": ["Grader audited", "Grader audited, better"]})
    _entry(data, pk, "submitted", cast["owner"], "draft", "in_review")
    _entry(data, pk, "published", cast["editor"], "in_review", "published", note="Checked the sources.")
    api.authenticate(cast["owner"])
    response = api.get(f"{POSTS}{pk}/history/")
    assert response.status == 200, f"GET {POSTS}{pk}/history/ by the post's author answered {response.status}, expected 200"
    body = response.json()
    assert isinstance(body, list), f"GET {POSTS}{pk}/history/ answered {str(body)[:100]}; expected a JSON array of entries"
    keys = {"id", "action", "actor", "from_status", "to_status", "changes", "note", "created_at"}
    shapes = [sorted(keys - set(e)) for e in body if isinstance(e, dict)]
    assert all(not missing for missing in shapes), f"history entries lack the keys {shapes}; each needs {sorted(keys)}"
    got = [(e["action"], (e["actor"] or {}).get("id"), (e["actor"] or {}).get("username", "")[:7]) for e in body]
    expected = [("created", cast["owner"], "grader-"), ("updated", cast["owner"], "grader-"), ("submitted", cast["owner"], "grader-"), ("published", cast["editor"], "grader-")]
    assert got == expected, (
        f"GET {POSTS}{pk}/history/ lists (action, actor id, username) {got}; expected {expected}: this post's entries "
        "only (the grader wrote them as AuditEntry rows), oldest first"
    )
    assert body[1]["changes"] == {"title": ["Grader audited", "Grader audited, better"]}, f"the 'updated' entry shows the changes {body[1]['changes']}"
    assert (body[3]["from_status"], body[3]["to_status"], body[3]["note"]) == ("in_review", "published", "Checked the sources."), (
        f"the 'published' entry shows {body[3]}; expected from in_review to published with the editor's note"
    )


HISTORY = {"anonymous": 401, "reader": 403, "other": 403, "owner": 200, "editor": 200, "admin": 200}


def test_who_may_read_a_history(api, data):
    cast = {"anonymous": None, **_cast(data)}
    published = _post(data, cast["owner"], "published")
    draft = _post(data, cast["owner"], "draft")
    wrong = []
    for caller, expected in HISTORY.items():
        api.authenticate(cast[caller])
        response = api.get(f"{POSTS}{published}/history/")
        if response.status != expected:
            wrong.append(f"{caller} GET the history of a published post: got {response.status}, expected {expected}")
    api.authenticate(cast["other"])
    hidden = api.get(f"{POSTS}{draft}/history/")
    if hidden.status != 404:
        wrong.append(f"another author GET the history of someone's draft: got {hidden.status}, expected 404")
    assert not wrong, "; ".join(wrong) + " (the history is for the post's author, editors and admins)"


def test_history_query_count_does_not_grow(api, data, queries):
    cast = _cast(data)
    pk = _post(data, cast["owner"], title="Grader edits 0")
    editors = [cast["editor"], cast["admin"]]

    def edit(times):  # entries by two different actors, written as rows (not through PATCH)
        for _ in range(times):
            n = next(_serial)
            _entry(data, pk, "updated", editors[n % 2], "draft", "draft", {"title": [f"Grader edits {n - 1}", f"Grader edits {n}"]})

    edit(2)
    api.authenticate(cast["owner"])
    with queries.count() as few:
        first = api.get(f"{POSTS}{pk}/history/")
    edit(8)
    api.authenticate(cast["owner"])
    with queries.count() as many:
        second = api.get(f"{POSTS}{pk}/history/")
    assert first.status == second.status == 200, f"GET {POSTS}{pk}/history/ answered {first.status} and {second.status}, expected 200"
    assert many.total <= few.total, (
        f"GET {POSTS}{pk}/history/ ran {few.total} queries for 2 entries, {many.total} for 10: load each entry's actor "
        f"with the entries (select_related); most repeated, {_most_repeated(many.sql)}"
    )


def _most_repeated(sql):
    shapes = [re.sub(r"\d+", "N", statement) for statement in sql]
    if not shapes:
        return "none"
    shape = max(set(shapes), key=shapes.count)
    _, found, source = shape.partition(" FROM ")
    return f"{shapes.count(shape)} times: {'SELECT … FROM ' + source[:120] if found else shape[:120]}"
