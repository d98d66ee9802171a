"""Readers follow authors: the subscriptions' reads, writes and the rules they keep.

A subscription is between two accounts: the reader (whoever asks, signed in) and an author (an
account with the author, editor or admin role: the ones who write posts). The database refuses
a second subscription to the same author and one to oneself (Subscription.Meta); the services
ask first, so a client gets a sentence, not an integrity error.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from accounts.models import Role, User
from blog.errors import DomainError

from .models import Subscription

# The roles that write posts, and so may be followed.
WRITERS = (Role.AUTHOR, Role.EDITOR, Role.ADMIN)


class NotAnAuthor(DomainError):
    """The account to follow does not exist or writes no posts (it is a reader)."""

    code = "not_an_author"


class AlreadySubscribed(DomainError):
    """The reader follows this author already. 409: it conflicts with what the database holds."""

    code = "already_subscribed"
    status_code = 409


def subscription_list(*, reader: User) -> QuerySet[Subscription]:
    """The reader's subscriptions, oldest first, with each author loaded (one query)."""
    return Subscription.objects.filter(reader=reader).select_related("author")


def subscription_create(*, reader: User, author_username: str) -> Subscription:
    """`reader` follows the author called `author_username`; return the subscription.

    Raises NotAnAuthor (no such author, or it is the reader) or AlreadySubscribed.
    """
    author = User.objects.filter(username=author_username, role__in=WRITERS).first()
    if author is None:
        raise NotAnAuthor(
            f"There is no author called {author_username!r}.",
            fields={"author": ["Name the username of an author, editor or admin."]},
        )
    if author.pk == reader.pk:
        raise NotAnAuthor(
            "You cannot subscribe to yourself.",
            fields={"author": ["Name another author than yourself."]},
        )
    try:
        with transaction.atomic():
            return Subscription.objects.create(reader=reader, author=author)
    except IntegrityError:
        # The unique constraint decided: asked here, two requests at once could both pass.
        raise AlreadySubscribed(f"You already follow {author.username}.") from None


def subscription_delete(*, subscription: Subscription) -> None:
    """Stop following: delete the subscription."""
    subscription.delete()
