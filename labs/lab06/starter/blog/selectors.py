"""Reads of the blog app: keyword-only, typed functions that return querysets or rows.

Views call these instead of building querysets themselves, so each read (and what it costs in
queries) is decided in one place. A selector never changes data and never knows about HTTP: one
that finds nothing returns None, and the view decides what that means.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from accounts.models import User

from .models import Category, Comment, Post, Tag


def category_list() -> QuerySet[Category]:
    """Every category, by name (the model's ordering). One query."""
    return Category.objects.all()


def tag_list() -> QuerySet[Tag]:
    """Every tag, by name. One query."""
    return Tag.objects.all()


def post_list() -> QuerySet[Post]:
    """Every post, newest first, with what its representation shows already loaded.

    The number of queries does not grow with the number of posts: the author and the category
    come in the same query (a join), the tags of all the posts in one more.
    """
    return (
        Post.objects.select_related("author", "category")
        .prefetch_related("tags")
        .order_by("-created_at", "-pk")
    )


def post_get(*, post_id: int) -> Post | None:
    """The post with id `post_id`, loaded as `post_list` loads posts, or None."""
    return post_list().filter(pk=post_id).first()


def comment_list(*, post: Post) -> QuerySet[Comment]:
    """The comments of `post`, oldest first, each with its author. Two queries in all."""
    return post.comments.select_related("author").order_by("created_at", "pk")


def posts_visible_to(user: User | AnonymousUser) -> QuerySet[Post]:
    """The posts `user` may see, loaded and ordered as `post_list` loads them."""
    # TODO(lab06): anonymous callers and readers see published posts; an author also every
    # post of their own; editors and admins every post. One filter on post_list(), by the
    # role in the database (labs/lab06/README.md, step 1).
    return post_list()


def post_get_visible(*, post_id: int, viewer: User | AnonymousUser) -> Post | None:
    """The post with id `post_id` if `viewer` may see it, else None (the caller answers 404)."""
    return posts_visible_to(viewer).filter(pk=post_id).first()


# TODO(lab06): audit_list(*, post) -> the post's audit entries, oldest first, with their actors
# loaded: one query however long the history (labs/lab06/README.md, step 7).
