"""lab02 hidden checks: content rules the database itself enforces.

Rows go in through ``data.create_rejected``: one INSERT, no ``save()``, no ``full_clean()``. A row
refused here is refused by a database constraint, whoever writes it.
"""

from __future__ import annotations

import datetime
import itertools

POST = "blog.Post"
STATUSES = {"draft", "in_review", "published", "archived"}
WHEN = datetime.datetime(2024, 9, 17, 8, 30, tzinfo=datetime.UTC)
_serial = itertools.count(1)


def _post(data, **fields):
    """The fields of a valid draft by a new author in a new category, with ``fields`` on top."""
    n = next(_serial)
    values = {
        "title": f"Grader post {n}",
        "slug": f"grader-post-{n}",
        "body": "Written by the grader.",
        "author": data.user(),
        "category": data.create("blog.Category", name=f"Grader category {n}", slug=f"grader-category-{n}"),
    }
    values.update(fields)
    return values


# Slugs --------------------------------------------------------------------------------------


def test_author_cannot_reuse_a_slug(data):
    author = data.user()
    data.create(POST, **_post(data, author=author, slug="release-notes"))
    refusal = data.create_rejected(POST, **_post(data, author=author, slug="release-notes"))
    assert refusal is not None, (
        "the database stored two posts by one author with the slug 'release-notes'; add "
        "UniqueConstraint(fields=['author', 'slug']) to Post.Meta.constraints"
    )
    assert refusal.startswith("unique"), f"the duplicate slug was refused, but not by a unique constraint: {refusal}"


def test_two_authors_may_share_a_slug(data):
    data.create(POST, **_post(data, slug="weekly-digest"))
    refusal = data.create_rejected(POST, **_post(data, slug="weekly-digest"))
    assert refusal is None, (
        "the database refused a second author's post with the slug 'weekly-digest' "
        f"({refusal}); a slug must be unique per author, not across the whole blog"
    )


# Status -------------------------------------------------------------------------------------


def test_status_has_the_workflow_choices_and_starts_as_draft(models, data):
    status = models.fields(POST).get("status")
    assert status is not None, "blog.Post has no field 'status'"
    choices = set(status["choices"] or [])
    assert choices == STATUSES, f"Post.status offers {sorted(choices) or 'no choices'}; expected exactly {sorted(STATUSES)}"
    pk = data.create(POST, **_post(data))
    stored = data.values(POST, "status", pk=pk)[0]["status"]
    assert stored == "draft", f"a post created without a status has status {stored!r}; the default must be 'draft'"


def test_database_refuses_an_unknown_status(data):
    for status in sorted(STATUSES):
        refusal = data.create_rejected(POST, **_post(data, status=status, published_at=WHEN))
        assert refusal is None, f"the database refused a post with status {status!r}: {refusal}"
    for status in ("deleted", "Draft", "live"):
        refusal = data.create_rejected(POST, **_post(data, status=status, published_at=WHEN))
        assert refusal is not None, (
            f"the database stored a post with status {status!r}; add a CheckConstraint "
            "(status__in=...) to Post.Meta.constraints: choices alone are checked only by forms"
        )
        assert refusal.startswith("check"), f"status {status!r} was refused, but not by a check constraint: {refusal}"


# Publication time ---------------------------------------------------------------------------


def test_published_post_needs_published_at(data):
    refusal = data.create_rejected(POST, **_post(data, status="published", published_at=None))
    assert refusal is not None, (
        "the database stored a published post with no published_at; add a CheckConstraint to "
        "Post.Meta.constraints: not published, or published_at is set"
    )
    assert refusal.startswith("check"), f"the undated published post was refused, but not by a check constraint: {refusal}"
    pk = data.create(POST, **_post(data, status="published", published_at=WHEN))
    assert data.count(POST, pk=pk, published_at=WHEN) == 1


def test_unpublished_posts_need_no_published_at(data):
    for status in ("draft", "in_review", "archived"):
        refusal = data.create_rejected(POST, **_post(data, status=status, published_at=None))
        assert refusal is None, (
            f"the database refused a {status} post without published_at ({refusal}); only "
            "published posts need one"
        )


# Comments -----------------------------------------------------------------------------------


def test_database_refuses_a_blank_comment(data):
    post = data.create(POST, **_post(data))
    reader = data.user()
    for body in ("", "    "):
        refusal = data.create_rejected("blog.Comment", post=post, author=reader, body=body)
        assert refusal is not None, (
            f"the database stored a comment whose body is {body!r}; add a CheckConstraint to "
            "Comment.Meta.constraints refusing bodies that are empty once spaces are trimmed"
        )
        assert refusal.startswith("check"), f"the comment {body!r} was refused, but not by a check constraint: {refusal}"
    for body in ("Useful, thanks.", "  ok  "):
        refusal = data.create_rejected("blog.Comment", post=post, author=reader, body=body)
        assert refusal is None, f"the database refused the comment {body!r}: {refusal}"


# Indexes ------------------------------------------------------------------------------------


def test_post_index_on_status_and_published_at(models):
    indexes = [c["columns"] for c in models.db_constraints(POST) if c["index"]]
    assert any(columns[:2] == ["status", "published_at"] for columns in indexes), (
        "the blog_post table has no index on (status, published_at); add "
        "models.Index(fields=['status', '-published_at'], ...) to Post.Meta.indexes and make a "
        f"migration (indexes found: {indexes or 'none'})"
    )
