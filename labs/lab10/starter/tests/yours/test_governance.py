"""Roles, the editorial workflow and the audit trail: who may see and do what, and the record."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from blog.errors import InvalidTransition
from blog.models import AuditEntry, Post
from blog.selectors import audit_list, post_get_visible, posts_visible_to
from blog.services import post_create, post_delete, post_transition, post_update
from tests.factories import make_post, make_user

pytestmark = pytest.mark.django_db

POSTS = "/api/posts/"


def url(post: Post, tail: str = "") -> str:
    return f"{POSTS}{post.pk}/{tail}"


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_anonymous_clients_do_not_see_drafts() -> None:
    draft = make_post()
    published = make_post(status="published")

    client = client_for(None)

    assert [post["id"] for post in client.get(POSTS).json()] == [published.pk]
    assert client.get(url(draft)).status_code == 404


@pytest.fixture
def people() -> dict[str, User]:
    """One user of each role; `owner` is the author of the posts the tests make."""
    return {
        "reader": make_user(role="reader"),
        "owner": make_user(role="author"),
        "other": make_user(role="author"),
        "editor": make_user(role="editor"),
        "admin": make_user(role="admin"),
    }


@pytest.fixture
def posts(people: dict[str, User]) -> dict[str, Post]:
    owner = people["owner"]
    return {
        "draft": make_post(author=owner),
        "in_review": make_post(author=owner, status="in_review"),
        "published": make_post(author=owner, status="published"),
    }


# Who sees what ----------------------------------------------------------------------------------

SEES = {
    "reader": {"published"},
    "owner": {"draft", "in_review", "published"},
    "other": {"published"},
    "editor": {"draft", "in_review", "published"},
    "admin": {"draft", "in_review", "published"},
}


@pytest.mark.parametrize("who", list(SEES))
def test_each_role_lists_and_reads_what_it_may_see(
    who: str, people: dict[str, User], posts: dict[str, Post]
) -> None:
    client = client_for(people[who])

    listed = {post["id"] for post in client.get(POSTS).json()}
    found = {name for name, post in posts.items() if client.get(url(post)).status_code == 200}

    assert listed == {posts[name].pk for name in SEES[who]}
    assert found == SEES[who]


def test_someone_elses_draft_is_not_found_even_for_comments(
    people: dict[str, User], posts: dict[str, Post]
) -> None:
    client = client_for(people["other"])

    for response in (
        client.get(url(posts["draft"], "comments/")),
        client.post(url(posts["draft"], "comments/"), {"body": "Hi"}, format="json"),
        client.get(url(posts["draft"], "history/")),
        client.post(url(posts["draft"], "transition/"), {"to": "in_review"}, format="json"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_the_scoped_list_costs_the_same_for_more_posts(
    people: dict[str, User], django_assert_max_num_queries: Any
) -> None:
    client = client_for(people["owner"])
    make_post(author=people["owner"])
    with django_assert_max_num_queries(50) as few:
        client.get(POSTS)
    for _ in range(5):
        make_post(author=people["owner"])
        make_post(status="published")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(POSTS).json()) == 11


def test_selectors_scope_by_the_viewer(people: dict[str, User], posts: dict[str, Post]) -> None:
    assert set(posts_visible_to(people["reader"])) == {posts["published"]}
    assert post_get_visible(post_id=posts["draft"].pk, viewer=people["other"]) is None
    assert post_get_visible(post_id=posts["draft"].pk, viewer=people["owner"]) == posts["draft"]


# Who does what ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [("reader", 403), ("owner", 201), ("editor", 201), ("admin", 201)],
)
def test_only_writers_create_posts(
    who: str, expected: int, people: dict[str, User], category: Any
) -> None:
    response = client_for(people[who]).post(
        POSTS, {"title": "New", "body": "Text.", "category": category.pk}, format="json"
    )

    assert response.status_code == expected
    if expected == 403:
        assert response.json()["error"]["code"] == "permission_denied"
        assert not Post.objects.filter(title="New").exists()


PATCH = {
    # (who, post): expected status
    ("reader", "published"): 403,
    ("owner", "draft"): 200,
    ("owner", "in_review"): 403,
    ("owner", "published"): 403,
    ("other", "draft"): 404,
    ("other", "published"): 403,
    ("editor", "in_review"): 200,
    ("editor", "published"): 200,
    ("admin", "draft"): 200,
}


@pytest.mark.parametrize(("who", "which"), list(PATCH))
def test_who_may_change_a_post(
    who: str, which: str, people: dict[str, User], posts: dict[str, Post]
) -> None:
    response = client_for(people[who]).patch(url(posts[which]), {"title": "Changed"}, "json")

    assert response.status_code == PATCH[who, which]
    posts[which].refresh_from_db()
    assert (posts[which].title == "Changed") == (response.status_code == 200)


def test_an_author_is_told_why_a_submitted_post_is_locked(
    people: dict[str, User], posts: dict[str, Post]
) -> None:
    response = client_for(people["owner"]).patch(url(posts["in_review"]), {"title": "X"}, "json")

    assert response.json()["error"]["code"] == "permission_denied"
    assert "draft" in response.json()["error"]["message"]


DELETE = {
    ("reader", "published"): 403,
    ("owner", "draft"): 204,
    ("owner", "published"): 403,
    ("other", "published"): 403,
    ("editor", "draft"): 403,
    ("admin", "published"): 204,
}


@pytest.mark.parametrize(("who", "which"), list(DELETE))
def test_who_may_delete_a_post(
    who: str, which: str, people: dict[str, User], posts: dict[str, Post]
) -> None:
    response = client_for(people[who]).delete(url(posts[which]))

    assert response.status_code == DELETE[who, which]
    assert Post.objects.filter(pk=posts[which].pk).exists() == (response.status_code != 204)


def test_status_author_and_dates_cannot_be_set_through_the_api(
    people: dict[str, User], posts: dict[str, Post], category: Any
) -> None:
    client = client_for(people["owner"])
    sneaky = {"status": "published", "author": people["other"].pk, "published_at": "2024-01-01"}

    patched = client.patch(url(posts["draft"]), {"title": "Mine", **sneaky}, format="json")
    created = client.post(
        POSTS, {"title": "New", "body": "B", "category": category.pk, **sneaky}, format="json"
    )

    assert (patched.status_code, created.status_code) == (200, 201)
    for post in (Post.objects.get(pk=posts["draft"].pk), Post.objects.get(title="New")):
        assert (post.status, post.author, post.published_at) == ("draft", people["owner"], None)


# The workflow ----------------------------------------------------------------------------------


def move(client: APIClient, post: Post, to: str, note: str = "") -> Any:
    return client.post(url(post, "transition/"), {"to": to, "note": note}, format="json")


def test_a_post_goes_through_review_to_publication_and_the_archive(
    people: dict[str, User], posts: dict[str, Post]
) -> None:
    post = posts["draft"]
    editor = client_for(people["editor"])

    assert move(client_for(people["owner"]), post, "in_review").json()["status"] == "in_review"
    published = move(editor, post, "published")
    assert published.status_code == 200
    assert published.json()["published_at"] is not None
    assert move(editor, post, "archived").json()["status"] == "archived"


def test_editors_send_back_and_unpublish(people: dict[str, User], posts: dict[str, Post]) -> None:
    editor = client_for(people["editor"])

    assert move(editor, posts["in_review"], "draft", "Needs a source.").status_code == 200
    unpublished = move(editor, posts["published"], "draft")

    assert unpublished.json()["status"] == "draft"
    posts["published"].refresh_from_db()
    assert posts["published"].published_at is None


@pytest.mark.parametrize(
    ("who", "which", "to", "expected", "code"),
    [
        ("owner", "in_review", "published", 403, "permission_denied"),
        ("editor", "draft", "in_review", 403, "permission_denied"),
        ("reader", "published", "draft", 403, "permission_denied"),
        ("editor", "draft", "published", 409, "invalid_transition"),
        ("admin", "published", "in_review", 409, "invalid_transition"),
        ("editor", "draft", "live", 400, "validation_error"),
    ],
)
def test_moves_outside_the_rules_are_refused_and_leave_no_trace(
    who: str,
    which: str,
    to: str,
    expected: int,
    code: str,
    people: dict[str, User],
    posts: dict[str, Post],
) -> None:
    before = posts[which].status

    response = move(client_for(people[who]), posts[which], to)

    assert (response.status_code, response.json()["error"]["code"]) == (expected, code)
    posts[which].refresh_from_db()
    assert posts[which].status == before
    assert not AuditEntry.objects.exists()


def test_the_admin_may_submit_any_draft(people: dict[str, User], posts: dict[str, Post]) -> None:
    post = post_transition(post=posts["draft"], actor=people["admin"], to="in_review")

    assert post.status == "in_review"


def test_post_transition_refuses_a_move_the_table_lacks(
    people: dict[str, User], posts: dict[str, Post]
) -> None:
    with pytest.raises(InvalidTransition) as caught:
        post_transition(post=posts["published"], actor=people["admin"], to="published")

    assert caught.value.status_code == 409


# The audit trail -------------------------------------------------------------------------------


def test_every_change_leaves_one_entry_in_order(people: dict[str, User], category: Any) -> None:
    owner, editor = people["owner"], people["editor"]
    post = post_create(author=owner, title="T", body="B", category=category, slug="t")
    post_update(post=post, actor=owner, title="Better", tags=[])
    post = post_transition(post=post, actor=owner, to="in_review")
    post_transition(post=post, actor=editor, to="published", note="Good.")

    entries = list(audit_list(post=post))

    assert [(e.action, e.actor, e.from_status, e.to_status) for e in entries] == [
        ("created", owner, "", "draft"),
        ("updated", owner, "draft", "draft"),
        ("submitted", owner, "draft", "in_review"),
        ("published", editor, "in_review", "published"),
    ]
    assert entries[1].changes == {"title": ["T", "Better"]}
    assert entries[3].note == "Good."
    assert str(entries[0]) == f"created #{post.pk}"


def test_an_edit_that_changes_nothing_records_nothing(people: dict[str, User]) -> None:
    post = make_post(author=people["owner"], title="Same")

    post_update(post=post, actor=people["owner"], title="Same")

    assert not AuditEntry.objects.exists()


def test_the_history_outlives_the_post(people: dict[str, User], posts: dict[str, Post]) -> None:
    draft = posts["draft"]
    pk, title = draft.pk, draft.title

    post_delete(post=draft, actor=people["owner"])

    entry = AuditEntry.objects.get()
    assert (entry.action, entry.post, entry.post_ref) == ("deleted", None, pk)
    assert entry.post_title == title


def test_an_entry_is_never_rewritten(people: dict[str, User], posts: dict[str, Post]) -> None:
    post_transition(post=posts["in_review"], actor=people["editor"], to="published")
    entry = AuditEntry.objects.get()

    entry.note = "Edited later."
    with pytest.raises(ValueError):
        entry.save()


def test_a_failure_after_the_entry_rolls_it_back(
    people: dict[str, User], posts: dict[str, Post], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(AuditEntry, "save", broken)

    with pytest.raises(RuntimeError):
        post_transition(post=posts["in_review"], actor=people["editor"], to="published")

    posts["in_review"].refresh_from_db()
    assert posts["in_review"].status == "in_review"


HISTORY = {"reader": 403, "owner": 200, "other": 403, "editor": 200, "admin": 200}


@pytest.mark.parametrize("who", list(HISTORY))
def test_who_may_read_a_posts_history(
    who: str, people: dict[str, User], posts: dict[str, Post]
) -> None:
    post = posts["in_review"]
    post_transition(post=post, actor=people["editor"], to="published", note="Fine.")

    response = client_for(people[who]).get(url(post, "history/"))

    assert response.status_code == HISTORY[who]
    if response.status_code == 200:
        [entry] = response.json()
        assert entry["action"] == "published"
        assert entry["actor"] == {"id": people["editor"].pk, "username": people["editor"].username}
        assert (entry["from_status"], entry["to_status"], entry["note"]) == (
            "in_review",
            "published",
            "Fine.",
        )


def test_the_audit_admin_is_read_only(people: dict[str, User]) -> None:
    from django.contrib import admin
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = make_user(role="admin", is_staff=True, is_superuser=True)
    model_admin = admin.site._registry[AuditEntry]

    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
