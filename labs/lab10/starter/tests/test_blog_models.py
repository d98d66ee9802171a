"""The blog's models: relations, and the content rules the database enforces by itself.

Rows are written with `objects.create()`, which never calls `full_clean()`: what is refused here
is refused by a database constraint, so it is refused for every writer, not only for forms.
Each refused write runs in its own `transaction.atomic()` block (a savepoint), so the test's
transaction survives the error, as it must on PostgreSQL.
"""

from datetime import UTC, datetime

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction

from tests.factories import make_category, make_comment, make_post, make_tag, make_user

pytestmark = pytest.mark.django_db

STATUSES = ["draft", "in_review", "published", "archived"]


# Relations -----------------------------------------------------------------------------------


def test_a_post_has_an_author_a_category_and_tags() -> None:
    author = make_user(role="author")
    category = make_category(name="Engineering")
    tags = [make_tag(name="django"), make_tag(name="postgres")]

    post = make_post(author=author, category=category)
    post.tags.set(tags)

    assert post.author == author
    assert post.category == category
    assert sorted(tag.name for tag in post.tags.all()) == ["django", "postgres"]
    assert list(author.posts.all()) == [post]
    assert list(category.posts.all()) == [post]


def test_comments_belong_to_a_post_and_go_with_it() -> None:
    post = make_post()
    make_comment(post=post)
    make_comment(post=post)
    Comment = apps.get_model("blog", "Comment")

    assert post.comments.count() == 2
    post.delete()
    assert Comment.objects.count() == 0


def test_a_category_in_use_cannot_be_deleted() -> None:
    from django.db.models import ProtectedError

    post = make_post()

    with pytest.raises(ProtectedError):
        post.category.delete()


# Slugs ---------------------------------------------------------------------------------------


def test_an_author_cannot_reuse_a_slug() -> None:
    author = make_user(role="author")
    make_post(author=author, slug="hello-world")

    with pytest.raises(IntegrityError), transaction.atomic():
        make_post(author=author, slug="hello-world")


def test_two_authors_may_use_the_same_slug() -> None:
    make_post(slug="hello-world")

    make_post(slug="hello-world")

    assert apps.get_model("blog", "Post").objects.filter(slug="hello-world").count() == 2


# Status --------------------------------------------------------------------------------------


def test_a_new_post_is_a_draft_without_a_publication_time() -> None:
    post = make_post()

    post.refresh_from_db()
    assert (post.status, post.published_at) == ("draft", None)


def test_status_choices_are_the_workflow_states() -> None:
    field = apps.get_model("blog", "Post")._meta.get_field("status")

    assert [value for value, _label in field.choices] == STATUSES


@pytest.mark.parametrize("status", ["deleted", "", "PUBLISHED"])
def test_the_database_refuses_an_unknown_status(status: str) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make_post(status=status)


def test_a_published_post_needs_a_publication_time() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        make_post(status="published", published_at=None)


@pytest.mark.parametrize("status", ["draft", "in_review", "archived"])
def test_only_published_posts_need_a_publication_time(status: str) -> None:
    assert make_post(status=status, published_at=None).published_at is None


def test_a_published_post_with_a_publication_time_is_accepted() -> None:
    when = datetime(2025, 1, 2, 3, 4, tzinfo=UTC)

    post = make_post(status="published", published_at=when)

    post.refresh_from_db()
    assert post.published_at == when


def test_published_posts_are_indexed_by_status_and_date() -> None:
    table = apps.get_model("blog", "Post")._meta.db_table
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)

    indexed = [info["columns"][:2] for info in constraints.values() if info["index"]]
    assert ["status", "published_at"] in indexed


# Comments ------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["", " ", "   "])
def test_the_database_refuses_an_empty_comment(body: str) -> None:
    post = make_post()

    with pytest.raises(IntegrityError), transaction.atomic():
        make_comment(post=post, body=body)


def test_a_comment_with_text_is_accepted() -> None:
    assert make_comment(body=" ok ").body == " ok "


# Readable in the admin and the shell ---------------------------------------------------------


def test_models_describe_themselves() -> None:
    post = make_post(title="Constraints in practice")

    assert str(post) == "Constraints in practice"
    assert str(post.category) == post.category.name
    assert str(make_tag(name="orm")) == "orm"
    assert "Thanks" in str(make_comment(post=post, body="Thanks for this"))
