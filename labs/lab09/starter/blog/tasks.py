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

from celery import Task, shared_task

MAX_RETRIES = 3
BACKOFF_SECONDS = 1
BACKOFF_MAX_SECONDS = 60


@shared_task(bind=True, name="blog.tasks.notify_subscribers", acks_late=True)
def notify_subscribers(self: Task, post_id: int) -> int:
    """Mail every subscriber of the post's author about the post; return how many were sent."""
    # TODO(lab09): one mail per subscriber, never twice, retried with backoff, a permanent
    # failure recorded (labs/lab09/README.md, steps 3 and 4).
    return 0
