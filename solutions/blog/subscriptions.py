# FILE LAB09
"""Readers follow authors: the subscriptions' reads, writes and the rules they keep.

A subscription is between two accounts: the reader (whoever asks, signed in) and an author (an
account with the author, editor or admin role: the ones who write posts). The database refuses
a second subscription to the same author and one to oneself (Subscription.Meta); the services
ask first, so a client gets a sentence, not an integrity error.
"""

from __future__ import annotations

# BEGIN LAB09
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from accounts.models import Role, User
from blog.errors import DomainError

from .models import Subscription

# STUB LAB09
# from django.db.models import QuerySet
#
# from accounts.models import User
# from blog.errors import DomainError
#
# from .models import Subscription
# END LAB09
# BEGIN LAB09
# The roles that write posts, and so may be followed.
WRITERS = (Role.AUTHOR, Role.EDITOR, Role.ADMIN)
# END LAB09


class NotAnAuthor(DomainError):
    """The account to follow does not exist or writes no posts (it is a reader)."""

    code = "not_an_author"


class AlreadySubscribed(DomainError):
    """The reader follows this author already. 409: it conflicts with what the database holds."""

    code = "already_subscribed"
    status_code = 409


def subscription_list(*, reader: User) -> QuerySet[Subscription]:
    """The reader's subscriptions, oldest first, with each author loaded (one query)."""
    # BEGIN LAB09
    return Subscription.objects.filter(reader=reader).select_related("author")
    # STUB LAB09
    # # TODO(lab09): the reader's subscriptions (labs/lab09/README.md, step 2).
    # return Subscription.objects.none()
    # END LAB09


def subscription_create(*, reader: User, author_username: str) -> Subscription:
    """`reader` follows the author called `author_username`; return the subscription.

    Raises NotAnAuthor (no such author, or it is the reader) or AlreadySubscribed.
    """
    # BEGIN LAB09
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
    # STUB LAB09
    # # TODO(lab09): subscribe `reader` to the author (labs/lab09/README.md, step 2).
    # raise NotImplementedError
    # END LAB09


def subscription_delete(*, subscription: Subscription) -> None:
    """Stop following: delete the subscription."""
    # BEGIN LAB09
    subscription.delete()
    # STUB LAB09
    # # TODO(lab09): delete the subscription (labs/lab09/README.md, step 2).
    # END LAB09
