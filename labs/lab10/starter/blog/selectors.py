"""Reads of the blog app: keyword-only, typed functions that return querysets or rows.

Views call these instead of building querysets themselves, so each read (and what it costs in
queries) is decided in one place. A selector never changes data and never knows about HTTP: one
that finds nothing returns None, and the view decides what that means.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet

from accounts.models import Role, User

from .models import AuditEntry, Category, Comment, Post, PostStatus, Tag


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
    """The posts `user` may see, loaded and ordered as `post_list` loads them.

    Anonymous callers and readers see published posts; an author sees them and every post of
    their own, whatever its status; editors and admins see every post. The role is the one in
    the database (`request.user`), never a claim a client sent. One filter, so the list costs
    the same number of queries as `post_list`, and a post outside it is simply not found.
    """
    posts = post_list()
    role = getattr(user, "role", None) if user.is_authenticated else None
    if role in (Role.EDITOR, Role.ADMIN):
        return posts
    published = Q(status=PostStatus.PUBLISHED)
    if role == Role.AUTHOR:
        return posts.filter(published | Q(author=user))
    return posts.filter(published)


def post_get_visible(*, post_id: int, viewer: User | AnonymousUser) -> Post | None:
    """The post with id `post_id` if `viewer` may see it, else None (the caller answers 404)."""
    return posts_visible_to(viewer).filter(pk=post_id).first()


def audit_list(*, post: Post) -> QuerySet[AuditEntry]:
    """The audit entries of `post`, oldest first, each with its actor. One query."""
    return post.audit_entries.select_related("actor").order_by("created_at", "pk")
