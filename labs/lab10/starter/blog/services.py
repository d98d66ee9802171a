"""Writes of the blog app: keyword-only, typed functions, each one transaction.

Views, the admin and management commands call these instead of changing models themselves, so
each rule lives in one place (HackSoftware's Django-Styleguide: `<entity>_<action>`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Role, User
from blog.cache import post_lists_changed
from blog.errors import BannedTermUsed, InvalidTransition, SlugTaken
from blog.tasks import notify_subscribers

from .models import (
    AuditAction,
    AuditEntry,
    BannedTerm,
    Category,
    Comment,
    Post,
    PostStatus,
    Tag,
)

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
GOVERNANCE_FIXTURES = (FIXTURES_DIR / "categories.json", FIXTURES_DIR / "banned_terms.json")


@dataclass(frozen=True)
class GovernanceSeedReport:
    """How many rows of each kind of governance data the database holds after seeding."""

    categories: int
    banned_terms: int


def governance_seed() -> GovernanceSeedReport:
    """Load the governance fixtures (`blog/fixtures/categories.json`, `banned_terms.json`).

    Safe to run any number of times: the fixtures name rows by natural key (a category's slug,
    a banned term's text), so a row that exists is updated in place, never added twice. All or
    nothing: if one row fails, nothing is loaded.
    """
    with transaction.atomic():
        call_command("loaddata", *map(str, GOVERNANCE_FIXTURES), verbosity=0)
    return GovernanceSeedReport(
        categories=Category.objects.count(), banned_terms=BannedTerm.objects.count()
    )


def post_archive(*, posts: QuerySet[Post]) -> int:
    """Archive every post of `posts` that is not archived yet; return how many changed.

    One UPDATE statement, so `updated_at` is set here: auto_now only acts in save().
    """
    with transaction.atomic():
        # Once committed, every cached post list is stale (blog/cache.py).
        transaction.on_commit(post_lists_changed)
        return posts.exclude(status=PostStatus.ARCHIVED).update(
            status=PostStatus.ARCHIVED, updated_at=timezone.now()
        )


def content_check(*, texts: dict[str, str]) -> None:
    """Refuse text that holds a banned term; `texts` maps an input field to its text.

    Case is ignored ("Miracle Cure" is caught as well as "miracle cure"). Raises BannedTermUsed
    naming each field concerned and the terms found in it. One query.
    """
    terms = list(BannedTerm.objects.values_list("term", flat=True))
    found: dict[str, list[str]] = {}
    for field, text in texts.items():
        used = [term for term in terms if term.casefold() in text.casefold()]
        if used:
            found[field] = [f"Remove the banned term {term!r}." for term in used]
    if found:
        raise BannedTermUsed("The text uses terms the content policy bans.", fields=found)


def _slug_check(*, author: User, slug: str, exclude_pk: int | None = None) -> None:
    taken = Post.objects.filter(author=author, slug=slug).exclude(pk=exclude_pk).exists()
    if taken:
        raise SlugTaken(
            f"You already have a post with the slug {slug!r}.",
            fields={"slug": ["Choose another slug: you already use this one."]},
        )


def post_create(
    *,
    author: User,
    title: str,
    body: str,
    category: Category,
    slug: str,
    tags: list[Tag] | None = None,
) -> Post:
    """Create a draft post by `author`; return it.

    The slug must be new among the author's posts. Raises BannedTermUsed or SlugTaken; nothing
    is written then.
    """
    with transaction.atomic():
        content_check(texts={"title": title, "body": body})
        _slug_check(author=author, slug=slug)
        post = Post.objects.create(
            author=author, title=title, slug=slug, body=body, category=category
        )
        post.tags.set(tags or [])
        # Once committed, every cached post list is stale (blog/cache.py).
        transaction.on_commit(post_lists_changed)
        _audit(actor=author, post=post, action=AuditAction.CREATED, to_status=post.status)
    return post


def post_update(
    *,
    post: Post,
    title: str | None = None,
    slug: str | None = None,
    body: str | None = None,
    category: Category | None = None,
    tags: list[Tag] | None = None,
    actor: User | None = None,
) -> Post:
    """Change the given fields of `post` (None leaves a field as it is); return the post.

    The same rules as `post_create` hold for the new values. Raises BannedTermUsed or SlugTaken;
    nothing is written then.
    """
    changes = {"title": title, "slug": slug, "body": body, "category": category}
    changes = {name: value for name, value in changes.items() if value is not None}
    with transaction.atomic():
        content_check(texts={k: v for k, v in changes.items() if k in ("title", "body")})
        if "slug" in changes and changes["slug"] != post.slug:
            _slug_check(author=post.author, slug=changes["slug"], exclude_pk=post.pk)
        before = _content(post)
        for name, value in changes.items():
            setattr(post, name, value)
        post.save()
        if tags is not None:
            post.tags.set(tags)
        # Once committed, every cached post list is stale (blog/cache.py).
        transaction.on_commit(post_lists_changed)
        edits = _changes(before, _content(post))
        if edits:
            _audit(
                actor=actor,
                post=post,
                action=AuditAction.UPDATED,
                from_status=post.status,
                to_status=post.status,
                changes=edits,
            )
    return post


def post_delete(*, post: Post, actor: User | None = None) -> None:
    """Delete `post` and, with it, its comments (Comment.post cascades)."""
    with transaction.atomic():
        # Written first, while the post exists; the entry keeps its id and title after.
        _audit(actor=actor, post=post, action=AuditAction.DELETED, from_status=post.status)
        post.delete()
        # Once committed, every cached post list is stale (blog/cache.py).
        transaction.on_commit(post_lists_changed)


def comment_create(*, post: Post, author: User, body: str) -> Comment:
    """Add a comment by `author` to `post`; return it. Raises BannedTermUsed."""
    with transaction.atomic():
        content_check(texts={"body": body})
        return Comment.objects.create(post=post, author=author, body=body)


def _audit(
    *,
    actor: User | None,
    post: Post,
    action: AuditAction,
    from_status: str = "",
    to_status: str = "",
    changes: dict[str, list[Any]] | None = None,
    note: str = "",
) -> AuditEntry:
    """Record that `actor` did `action` to `post`. Call it inside the change's transaction."""
    return AuditEntry.objects.create(
        actor=actor,
        post=post,
        post_ref=post.pk,
        post_title=post.title,
        action=action,
        from_status=from_status,
        to_status=to_status,
        changes=changes or {},
        note=note,
    )


def _content(post: Post) -> dict[str, Any]:
    """What a content edit can change, as JSON values (ids for the category and the tags)."""
    return {
        "title": post.title,
        "slug": post.slug,
        "body": post.body,
        "category": post.category_id,
        "tags": sorted(tag.pk for tag in post.tags.all()),
    }


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Each field whose value differs, as [old, new]."""
    return {name: [before[name], after[name]] for name in before if before[name] != after[name]}


@dataclass(frozen=True)
class Move:
    """One move of the editorial workflow: what it is called, and who may make it."""

    action: AuditAction
    roles: frozenset[str]  # the roles that may make it on any post
    by_author: bool = False  # whether the post's own author may make it too


EDITORS = frozenset({Role.EDITOR, Role.ADMIN})

# Every move the workflow has, by (from, to). Anything else is refused with InvalidTransition.
TRANSITIONS: dict[tuple[str, str], Move] = {
    (PostStatus.DRAFT, PostStatus.IN_REVIEW): Move(
        AuditAction.SUBMITTED, frozenset({Role.ADMIN}), by_author=True
    ),
    (PostStatus.IN_REVIEW, PostStatus.PUBLISHED): Move(AuditAction.PUBLISHED, EDITORS),
    (PostStatus.IN_REVIEW, PostStatus.DRAFT): Move(AuditAction.REJECTED, EDITORS),
    (PostStatus.PUBLISHED, PostStatus.DRAFT): Move(AuditAction.UNPUBLISHED, EDITORS),
    (PostStatus.PUBLISHED, PostStatus.ARCHIVED): Move(AuditAction.ARCHIVED, EDITORS),
}


def post_transition(*, post: Post, actor: User, to: str, note: str = "") -> Post:
    """Move `post` to the status `to` as `actor`, record it, and return the post as it is now.

    The move must be in TRANSITIONS (else InvalidTransition, whoever asks) and `actor` must be
    allowed to make it (else PermissionDenied). Publishing dates the post; unpublishing clears
    the date. The post's row is locked for the transaction, so two editors acting at once are
    served one after the other, and the second sees the first's result.
    """
    with transaction.atomic():
        locked = Post.objects.select_for_update().get(pk=post.pk)
        source = locked.status
        move = TRANSITIONS.get((source, to))
        if move is None:
            raise InvalidTransition(f"A post cannot go from {source} to {to}.")
        if actor.role not in move.roles and not (move.by_author and locked.author_id == actor.pk):
            raise PermissionDenied(f"You may not move this post from {source} to {to}.")
        locked.status = to
        if to == PostStatus.PUBLISHED:
            locked.published_at = timezone.now()
        elif to == PostStatus.DRAFT:
            locked.published_at = None
        locked.save(update_fields=["status", "published_at", "updated_at"])
        _audit(
            actor=actor,
            post=locked,
            action=move.action,
            from_status=source,
            to_status=to,
            note=note,
        )
        # After the COMMIT, never before: a publish that rolls back must tell no one, and the
        # worker must find the post published. The task gets the id, not the object.
        transaction.on_commit(post_lists_changed)
        if to == PostStatus.PUBLISHED:
            # robust: a broker that is down must not turn a committed publish into a 500;
            # the failure to queue is logged (Django logs a robust callback's exception).
            transaction.on_commit(lambda: notify_subscribers.delay(locked.pk), robust=True)
    return locked
