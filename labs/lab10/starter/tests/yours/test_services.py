"""The blog's writes, called directly: the rules hold whoever calls them."""

from __future__ import annotations

import pytest

from accounts.models import User
from blog.errors import BannedTermUsed, SlugTaken
from blog.models import BannedTerm, Category, Comment, Post
from blog.services import comment_create, content_check, post_create, post_delete, post_update
from tests.factories import make_comment, make_post, make_tag

pytestmark = pytest.mark.django_db


def test_content_check_names_each_field_and_term_ignoring_case(banned_term: BannedTerm) -> None:
    with pytest.raises(BannedTermUsed) as caught:
        content_check(texts={"title": "Fine", "body": "A MIRACLE CURE for bugs"})

    assert caught.value.code == "banned_term"
    assert caught.value.fields == {"body": ["Remove the banned term 'miracle cure'."]}


def test_content_check_accepts_clean_text(banned_term: BannedTerm) -> None:
    content_check(texts={"title": "A cure for slow queries", "body": "No miracles here."})


def test_post_create_makes_a_draft_with_its_tags(author: User, category: Category) -> None:
    tags = [make_tag(name="orm"), make_tag(name="sql")]

    post = post_create(
        author=author, title="Joins", body="On joins.", category=category, slug="joins", tags=tags
    )

    post.refresh_from_db()
    assert (post.status, post.author, post.category) == ("draft", author, category)
    assert sorted(tag.name for tag in post.tags.all()) == ["orm", "sql"]


def test_post_create_refuses_a_banned_term_and_writes_nothing(
    author: User, category: Category, banned_term: BannedTerm
) -> None:
    with pytest.raises(BannedTermUsed):
        post_create(
            author=author, title="Miracle cure", body="B", category=category, slug="miracle"
        )

    assert not Post.objects.exists()


def test_post_create_refuses_a_slug_the_author_already_uses(
    author: User, category: Category
) -> None:
    make_post(author=author, slug="taken")

    with pytest.raises(SlugTaken) as caught:
        post_create(author=author, title="T", body="B", category=category, slug="taken")

    assert list(caught.value.fields) == ["slug"]


def test_another_author_may_use_the_same_slug(author: User, category: Category) -> None:
    make_post(slug="shared")

    post = post_create(author=author, title="T", body="B", category=category, slug="shared")

    assert post.slug == "shared"


def test_post_update_changes_only_the_given_fields(category: Category) -> None:
    post = make_post(title="Old", body="Same body.")
    post.tags.set([make_tag()])

    post_update(post=post, title="New", category=category, tags=[])

    post.refresh_from_db()
    assert (post.title, post.body, post.category) == ("New", "Same body.", category)
    assert not post.tags.exists()


def test_post_update_keeps_the_slug_rule(author: User) -> None:
    make_post(author=author, slug="first")
    post = make_post(author=author, slug="second")

    post_update(post=post, slug="second")  # its own slug: no conflict
    with pytest.raises(SlugTaken):
        post_update(post=post, slug="first")


def test_post_update_refuses_a_banned_term(banned_term: BannedTerm) -> None:
    post = make_post(body="Clean.")

    with pytest.raises(BannedTermUsed):
        post_update(post=post, body="Try this miracle cure.")

    post.refresh_from_db()
    assert post.body == "Clean."


def test_post_delete_removes_the_post_and_its_comments() -> None:
    comment = make_comment()

    post_delete(post=comment.post)

    assert not Post.objects.exists()
    assert not Comment.objects.exists()


def test_comment_create_stores_the_comment(author: User) -> None:
    post = make_post()

    comment = comment_create(post=post, author=author, body="Nice.")

    assert list(post.comments.all()) == [comment]


def test_comment_create_refuses_a_banned_term(author: User, banned_term: BannedTerm) -> None:
    with pytest.raises(BannedTermUsed):
        comment_create(post=make_post(), author=author, body="miracle cure!")
