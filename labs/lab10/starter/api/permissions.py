"""Who may do what with posts, as DRF permission classes (deny by default).

Views list the classes that must all pass. `has_permission` runs before the view's handler and
decides by role; `has_object_permission` runs when a view calls
`self.check_object_permissions(request, post)` on a post it found, and decides by role,
ownership and status. The role is always `request.user.role`, read from the database by the
authentication class, never the `role` claim of a token: a token outlives a change of role.

Who may *see* a post is not decided here: the views find posts through
`blog.selectors.posts_visible_to`, so a post the caller may not see is never found (404), and
these classes only judge posts the caller can see (403). The workflow's moves are checked by the
service that makes them, `blog.services.post_transition`.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from accounts.models import Role
from blog.models import (
    Post,
    PostStatus,
)

WRITERS = frozenset({Role.AUTHOR, Role.EDITOR, Role.ADMIN})
EDITORS = frozenset({Role.EDITOR, Role.ADMIN})


def role_of(request: Request) -> str | None:
    """The caller's role, or None for an anonymous caller."""
    user = request.user
    return getattr(user, "role", None) if user and user.is_authenticated else None


def edit_refusal(request: Request, post: Post) -> str | None:
    """Why the caller may not change `post`'s content, or None when they may."""
    role = role_of(request)
    if role in EDITORS:
        return None
    if role != Role.AUTHOR:
        return "Readers cannot change posts."
    if post.author_id != request.user.pk:
        return "You can change only your own posts."
    if post.status != PostStatus.DRAFT:
        return "Authors change posts only while they are drafts; ask an editor."
    return None


def delete_refusal(request: Request, post: Post) -> str | None:
    """Why the caller may not delete `post`, or None when they may."""
    role = role_of(request)
    if role == Role.ADMIN:
        return None
    if role == Role.EDITOR:
        return "Editors archive posts instead of deleting them."
    if role != Role.AUTHOR:
        return "Readers cannot delete posts."
    if post.author_id != request.user.pk:
        return "You can delete only your own drafts."
    if post.status != PostStatus.DRAFT:
        return "Authors delete posts only while they are drafts; ask an editor to archive it."
    return None


class CanCreatePosts(BasePermission):
    """Anyone may read; only authors, editors and admins may create posts."""

    message = "Readers cannot write posts: ask an admin for the author role."

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method in SAFE_METHODS or role_of(request) in WRITERS


class CanChangePost(BasePermission):
    """PATCH and DELETE on a post the caller can see: `edit_refusal` and `delete_refusal`."""

    def has_object_permission(self, request: Request, view: Any, obj: Post) -> bool:
        if request.method in SAFE_METHODS:
            return True
        if request.method == "DELETE":
            refusal = delete_refusal(request, obj)
        else:
            refusal = edit_refusal(request, obj)
        if refusal is not None:
            raise PermissionDenied(refusal)
        return True


class CanReadHistory(BasePermission):
    """A post's audit history: its author, editors and admins."""

    message = "Only the post's author, editors and admins may read its history."

    def has_object_permission(self, request: Request, view: Any, obj: Post) -> bool:
        return role_of(request) in EDITORS or obj.author_id == request.user.pk
