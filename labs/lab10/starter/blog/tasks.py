"""Background work of the blog, run by Celery workers: mail a post's subscribers.

`notify_subscribers(post_id)` is queued by `post_transition` once a publish has committed. It
takes an id, not a Post: the message crosses a process boundary, and the worker must read the
post as the database holds it when the task runs, not as it was when queued.

Three promises, each kept by the code below, not by luck:

- **Idempotent.** One `Notification` row per (post, subscriber), unique in the database. A
  mail is sent only for a row still `pending`, and the row is marked `sent` right after, so a
  second run (a retry, a redelivery: messages are acknowledged late) sends nothing twice.
- **Transient failures are retried** (an SMTP error, the mail server unreachable): at most
  MAX_RETRIES times, after an exponential delay with full jitter (up to 1, 2, 4 ... seconds,
  never more than BACKOFF_MAX_SECONDS), so a struggling server is not hammered in lockstep.
- **A permanent failure is recorded.** After the last retry the pending rows become `failed`
  with the error, visible in the admin (Notifications), and the failure is logged.
"""

from __future__ import annotations

import logging
from smtplib import SMTPException

from celery import Task, shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.core.mail import send_mail
from django.db.models import F
from django.utils import timezone

from .models import Notification, NotificationStatus, Post, PostStatus, Subscription

MAX_RETRIES = 3
BACKOFF_SECONDS = 1
BACKOFF_MAX_SECONDS = 60
# What a mail server that fails for now raises: smtplib's errors, or the OS's when it is down.
TRANSIENT = (SMTPException, OSError)

logger = logging.getLogger(__name__)


@shared_task(bind=True, name="blog.tasks.notify_subscribers", acks_late=True)
def notify_subscribers(self: Task, post_id: int) -> int:
    """Mail every subscriber of the post's author about the post; return how many were sent."""
    post = (
        Post.objects.select_related("author")
        .filter(pk=post_id, status=PostStatus.PUBLISHED)
        .first()
    )
    if post is None:
        return 0  # unpublished or deleted since it was queued: nothing to announce
    readers = (
        Subscription.objects.filter(author=post.author).exclude(reader__email="").values("reader")
    )
    # One row per subscriber; rows a first run made are kept as they are (ignore_conflicts).
    Notification.objects.bulk_create(
        [Notification(post=post, recipient_id=row["reader"]) for row in readers],
        ignore_conflicts=True,
    )
    pending = Notification.objects.filter(
        post=post, status=NotificationStatus.PENDING
    ).select_related("recipient")
    sent = 0
    for note in pending:
        try:
            send_mail(
                subject=f"New on BlogCraft: {post.title}",
                message=(
                    f"{post.author.username} published \u201c{post.title}\u201d.\n\n"
                    f"Read it at /api/posts/{post.pk}/\n\n"
                    "You get this mail because you follow them; unsubscribe at /api/subscriptions/."
                ),
                from_email=None,  # DEFAULT_FROM_EMAIL
                recipient_list=[note.recipient.email],
            )
        except TRANSIENT as error:
            _failed_attempt(self, post=post, note=note, error=error)
            raise  # not reached: _failed_attempt retries or gives up, raising either way
        Notification.objects.filter(pk=note.pk).update(
            status=NotificationStatus.SENT,
            sent_at=timezone.now(),
            attempts=F("attempts") + 1,
            error="",
        )
        sent += 1
    return sent


def _failed_attempt(task: Task, *, post: Post, note: Notification, error: Exception) -> None:
    """Record a failed attempt, then retry later or, after the last retry, give up."""
    Notification.objects.filter(pk=note.pk).update(
        attempts=F("attempts") + 1, error=str(error)[:500]
    )
    retries = task.request.retries
    if retries >= MAX_RETRIES:
        Notification.objects.filter(post=post, status=NotificationStatus.PENDING).update(
            status=NotificationStatus.FAILED, error=str(error)[:500]
        )
        logger.error(
            "giving up mailing the subscribers of post %s after %s retries: %s",
            post.pk,
            retries,
            error,
        )
        raise error
    countdown = get_exponential_backoff_interval(
        factor=BACKOFF_SECONDS,
        retries=retries,
        maximum=BACKOFF_MAX_SECONDS,
        full_jitter=True,
    )
    raise task.retry(exc=error, countdown=countdown, max_retries=MAX_RETRIES)
