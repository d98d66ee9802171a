"""Readers follow authors: the subscriptions' reads, writes and the rules they keep.

A subscription is between two accounts: the reader (whoever asks, signed in) and an author (an
account with the author, editor or admin role: the ones who write posts). The database refuses
a second subscription to the same author and one to oneself (Subscription.Meta); the services
ask first, so a client gets a sentence, not an integrity error.
"""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import User
from blog.errors import DomainError

from .models import Subscription


class NotAnAuthor(DomainError):
    """The account to follow does not exist or writes no posts (it is a reader)."""

    code = "not_an_author"


class AlreadySubscribed(DomainError):
    """The reader follows this author already. 409: it conflicts with what the database holds."""

    code = "already_subscribed"
    status_code = 409


def subscription_list(*, reader: User) -> QuerySet[Subscription]:
    """The reader's subscriptions, oldest first, with each author loaded (one query)."""
    # TODO(lab09): the reader's subscriptions (labs/lab09/README.md, step 2).
    return Subscription.objects.none()


def subscription_create(*, reader: User, author_username: str) -> Subscription:
    """`reader` follows the author called `author_username`; return the subscription.

    Raises NotAnAuthor (no such author, or it is the reader) or AlreadySubscribed.
    """
    # TODO(lab09): subscribe `reader` to the author (labs/lab09/README.md, step 2).
    raise NotImplementedError


def subscription_delete(*, subscription: Subscription) -> None:
    """Stop following: delete the subscription."""
    # TODO(lab09): delete the subscription (labs/lab09/README.md, step 2).
