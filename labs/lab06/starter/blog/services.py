"""Writes of the blog app: keyword-only, typed functions, each one transaction.

Views, the admin and management commands call these instead of changing models themselves, so
each rule lives in one place (HackSoftware's Django-Styleguide: `<entity>_<action>`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.core.management import call_command
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from blog.errors import BannedTermUsed, SlugTaken

from .models import (
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
        # TODO(lab06): record that `author` created the post (labs/lab06/README.md, step 6).
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
        for name, value in changes.items():
            setattr(post, name, value)
        post.save()
        if tags is not None:
            post.tags.set(tags)
        # TODO(lab06): record an "updated" entry by `actor` with what changed, each field as
        # [old, new] (labs/lab06/README.md, step 6).
    return post


def post_delete(*, post: Post, actor: User | None = None) -> None:
    """Delete `post` and, with it, its comments (Comment.post cascades)."""
    with transaction.atomic():
        # TODO(lab06): record a "deleted" entry by `actor` before the post goes
        # (labs/lab06/README.md, step 6).
        post.delete()


def comment_create(*, post: Post, author: User, body: str) -> Comment:
    """Add a comment by `author` to `post`; return it. Raises BannedTermUsed."""
    with transaction.atomic():
        content_check(texts={"body": body})
        return Comment.objects.create(post=post, author=author, body=body)


def post_transition(*, post: Post, actor: User, to: str, note: str = "") -> Post:
    """Move `post` to the status `to` as `actor`, record it, and return the post as it is now."""
    # TODO(lab06): the editorial workflow as a table of moves, (from, to) -> who may make it,
    # checked under a row lock in one transaction with its audit entry (labs/lab06/README.md,
    # step 5). A move not in the table raises InvalidTransition; an actor who may not make it,
    # django.core.exceptions.PermissionDenied.
    raise NotImplementedError
