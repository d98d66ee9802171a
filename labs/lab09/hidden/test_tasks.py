"""lab09 hidden checks: the Celery app, publishing notifies subscribers, tasks that survive failure.

Grader fixtures only: ``tasks`` runs a real Celery worker on the grader's own Redis for the
check and records what was queued and run; ``outbox`` is the mail the project sent (and can
make the mail server fail); ``commit_failure`` makes a publish's COMMIT fail. Rows are written
with ``data``; the publish itself goes through the API, as an editor (lab06's workflow: a post
in review is published by an editor).
"""

from __future__ import annotations

import datetime
import itertools

TASK = "blog.tasks.notify_subscribers"
POSTS = "/api/posts/"
_serial = itertools.count(1)


def _people(data, readers=3):
    """An author, an editor, and ``readers`` readers (with mail addresses) following the author."""
    n = next(_serial)
    author = data.user(role="author", email=f"author{n}@grader.example")
    editor = data.user(role="editor", email=f"editor{n}@grader.example")
    followers = []
    for i in range(readers):
        reader = data.user(role="reader", email=f"reader{n}-{i}@grader.example")
        data.create("blog.Subscription", reader=reader, author=author)
        followers.append(f"reader{n}-{i}@grader.example")
    return author, editor, followers


def _post_in_review(data, author, title=None):
    n = next(_serial)
    category = data.create("blog.Category", name=f"Grader tasks {n}", slug=f"grader-tasks-{n}")
    return data.create(
        "blog.Post",
        title=title or f"Grader news {n}",
        slug=f"grader-news-{n}",
        body="Written by the grader.",
        author=author,
        category=category,
        status="in_review",
    )


def _publish(api, editor, pk):
    api.authenticate(editor)
    response = api.post(f"{POSTS}{pk}/transition/", json_body={"to": "published"})
    api.authenticate(None)
    return response


def _published_ok(api, editor, pk):
    response = _publish(api, editor, pk)
    assert response.status == 200, (
        f"POST {POSTS}{pk}/transition/ {{\"to\": \"published\"}} as an editor answered "
        f"{response.status}; expected 200 (lab06's workflow)"
    )


def _recipients(outbox):
    return sorted(address for message in outbox.messages() for address in message["to"])


# celery-app ----------------------------------------------------------------------------------


def test_the_broker_comes_from_the_environment(project):
    probe = project.settings_module(
        "config.settings.base",
        env={"CELERY_BROKER_URL": "redis://broker.grader.example:6390/3"},
        names=["CELERY_BROKER_URL", "CELERY_TASK_ACKS_LATE"],
    )
    assert probe.imported, f"config/settings/base.py did not import: {probe.error_type}: {probe.error_message}"
    got = probe.values.get("CELERY_BROKER_URL")
    assert got == "redis://broker.grader.example:6390/3", (
        f"With CELERY_BROKER_URL=redis://broker.grader.example:6390/3, CELERY_BROKER_URL in "
        f"config/settings/base.py was {got!r}: read it with env.str(\"CELERY_BROKER_URL\", ...)"
    )
    default = project.settings_module("config.settings.base", env={}, names=["CELERY_BROKER_URL"])
    got = default.values.get("CELERY_BROKER_URL")
    assert got == "redis://127.0.0.1:6379/0", (
        f"Without CELERY_BROKER_URL in the environment, CELERY_BROKER_URL was {got!r}; expected "
        "the default redis://127.0.0.1:6379/0"
    )


def test_the_app_runs_the_task_on_the_configured_broker(data, api, tasks, outbox):
    # The tasks fixture refuses an app whose broker is not CELERY_BROKER_URL; a task queued by
    # name must then be run by a worker of that app.
    tasks.send(TASK, 10**9)  # no such post: the task must simply do nothing
    tasks.wait()
    runs = tasks.runs(TASK)
    assert runs and runs[-1]["state"] == "SUCCESS", (
        f"{TASK} queued by name for a post that does not exist ended {runs[-1]['state'] if runs else 'never run'}; "
        "expected the worker to run it and find nothing to do (SUCCESS). Is it registered under "
        "that name (@shared_task(name=...)) and found by app.autodiscover_tasks()?"
    )
    assert outbox.messages() == [], "A task for a post that does not exist sent mail"


# notify-on-commit ----------------------------------------------------------------------------


def test_publishing_mails_each_subscriber_once(data, api, tasks, outbox):
    author, editor, followers = _people(data, readers=3)
    stranger = data.user(role="reader", email="stranger@grader.example")
    assert stranger
    pk = _post_in_review(data, author, title="Grader announces tasks")
    _published_ok(api, editor, pk)
    tasks.wait()
    got = _recipients(outbox)
    assert got == sorted(followers), (
        f"Publishing post {pk} mailed {got or 'nobody'}; expected one mail to each of the "
        f"author's 3 subscribers {sorted(followers)} and to no one else"
    )
    subjects_and_bodies = [m["subject"] + "\n" + m["body"] for m in outbox.messages()]
    assert all("Grader announces tasks" in text for text in subjects_and_bodies), (
        "Each mail must name the post's title in its subject or body"
    )
    queued = tasks.published(TASK)
    assert [row["args"] for row in queued[:1]] == [[pk]], (
        f"Publishing queued {[(r['name'], r['args']) for r in tasks.published()]}; expected one "
        f"{TASK} with the post's id as its only argument ([{pk}]): pass ids, not objects"
    )


def test_only_a_publish_queues_the_task(data, api, tasks, outbox):
    author, editor, _ = _people(data, readers=1)
    pk = _post_in_review(data, author)
    api.authenticate(editor)
    response = api.post(f"{POSTS}{pk}/transition/", json_body={"to": "draft"})
    api.authenticate(None)
    assert response.status == 200, f"Sending a post in review back to draft answered {response.status}; expected 200"
    tasks.wait()
    assert tasks.published(TASK) == [] and outbox.messages() == [], (
        "Sending a post back to draft queued the notification or sent mail; only a publish may"
    )


def test_a_publish_that_rolls_back_queues_nothing(data, api, tasks, outbox, commit_failure):
    author, editor, _ = _people(data, readers=2)
    pk = _post_in_review(data, author)
    commit_failure.on_publish(pk)
    response = _publish(api, editor, pk)
    tasks.wait()
    status = data.values("blog.Post", "status", pk=pk)
    assert status == [{"status": "in_review"}], (
        f"The grader made the publish of post {pk} fail at COMMIT, yet the post is {status}"
    )
    queued = tasks.published(TASK)
    assert queued == [] and outbox.messages() == [], (
        f"The publish of post {pk} rolled back (the grader made its COMMIT fail; it answered "
        f"{response.status}), yet {len(queued)} notification task(s) were queued"
        + (" from inside the transaction" if any(r["in_transaction"] for r in queued) else "")
        + f" and {len(outbox.messages())} mail(s) sent. Queue the task with "
        "transaction.on_commit(...), so that it is sent only once the publish has committed."
    )


# idempotent ----------------------------------------------------------------------------------


def test_a_second_delivery_sends_nothing_twice(data, api, tasks, outbox):
    author, editor, followers = _people(data, readers=2)
    pk = _post_in_review(data, author)
    _published_ok(api, editor, pk)
    tasks.wait()
    # One more delivery once the publish has surely committed, so that this criterion judges
    # idempotency alone: a task queued too early (notify-on-commit's concern) may have run
    # before the post was visible and sent nothing.
    tasks.send(TASK, pk)
    tasks.wait()
    first = _recipients(outbox)
    tasks.send(TASK, pk)  # the broker delivers the same message again (acks_late, a lost ack)
    tasks.wait()
    got = _recipients(outbox)
    assert first == sorted(followers) and got == first, (
        f"The task for post {pk} ran twice and mailed {got}; expected each subscriber once "
        f"({sorted(followers)}). Record each (post, subscriber) mail in the database (a unique "
        "constraint) and send only those not sent yet."
    )


def test_a_retry_after_a_partial_failure_sends_nothing_twice(data, api, tasks, outbox):
    author, editor, followers = _people(data, readers=3)
    pk = _post_in_review(data, author)
    # The first mail goes out, the second fails once. Whatever the task does then (a retry,
    # or giving up: the retries criterion judges that), a delivery of the same message
    # afterwards must not mail anyone a second time.
    outbox.fail_from(2, times=1)
    _published_ok(api, editor, pk)
    tasks.wait()
    tasks.send(TASK, pk)
    tasks.wait()
    got = _recipients(outbox)
    twice = sorted({address for address in got if got.count(address) > 1})
    assert got and not twice, (
        f"The mail server failed once, after the first of 3 mails ({followers}); after the task "
        f"had run again the subscribers had got {got or 'nothing'}"
        + (f": {twice} twice" if twice else "")
        + ". Mark each mail sent as soon as it is, so that a retry resends nothing an earlier "
        "attempt sent"
    )


# retries -------------------------------------------------------------------------------------


def test_a_transient_failure_is_retried_with_backoff(data, api, tasks, outbox):
    author, editor, followers = _people(data, readers=1)
    pk = _post_in_review(data, author)
    outbox.fail_next(2)
    _published_ok(api, editor, pk)
    tasks.wait()
    # As in the idempotency checks: one delivery after the commit, so a task queued before it
    # (judged by notify-on-commit) still meets the failing mail server here. Compared as sets:
    # sending twice is the idempotent criterion's finding, not this one's.
    tasks.send(TASK, pk)
    tasks.wait()
    got = sorted(set(_recipients(outbox)))
    runs = [row["state"] for row in tasks.runs(TASK)]
    assert got == followers, (
        f"The mail server failed twice (SMTPServerDisconnected), then worked; the subscriber got "
        f"{len(got)} mail(s) after the task ran {len(runs)} time(s) ({', '.join(runs)}). Retry "
        "on smtplib.SMTPException (and OSError) with self.retry(...)"
    )
    retries = [row for row in tasks.published(TASK) if row["retries"] > 0]
    delays = []
    for row in retries:
        eta = row["eta"]
        delay = 0.0
        if eta:
            delay = (datetime.datetime.fromisoformat(eta).timestamp() - row["at"])
        delays.append(round(delay, 1))
    # The message of retry n carries retries=n; its countdown was drawn for n - 1 earlier
    # retries: at most 1 s for the first, 2 s for the second.
    limits = [2 ** (row["retries"] - 1) * 1.0 for row in retries]
    assert len(retries) == 2 and all(d <= limit + 0.5 for d, limit in zip(delays, limits, strict=True)), (
        f"The two retries were queued to run after {delays} s; with exponential backoff from 1 s "
        f"and full jitter, retry n waits at most 2**(n-1) s ({limits}). Pass "
        "countdown=get_exponential_backoff_interval(...) (or retry_backoff=True) instead of a "
        "fixed delay (self.retry() alone waits 180 s)"
    )
    described = tasks.describe(TASK)
    assert described.get("acks_late") is True, (
        f"{TASK} acknowledges its message before it runs (acks_late is {described.get('acks_late')}); "
        "set CELERY_TASK_ACKS_LATE = True (or acks_late=True on the task), so a worker that dies "
        "mid-task leaves the message to be delivered again"
    )


# permanent-failure ---------------------------------------------------------------------------


def test_a_permanent_failure_is_recorded_after_the_last_retry(data, api, tasks, outbox):
    author, editor, _ = _people(data, readers=1)
    pk = _post_in_review(data, author)
    outbox.fail_next(1000)
    _published_ok(api, editor, pk)
    tasks.wait()
    earlier = 0
    if [row["status"] for row in data.values("blog.Notification", "status", post=pk)] != ["failed"]:
        # A task queued before the publish committed (notify-on-commit's finding, not this
        # one's) can have run before the post was published and found nothing to do: deliver
        # it once more after the commit, as the idempotency and retry checks do, and judge
        # that delivery's runs only. A task that ran after the commit has recorded its
        # failure by now, so a correct project is judged on its first delivery.
        earlier = len(tasks.runs(TASK))
        tasks.send(TASK, pk)
        tasks.wait()
    runs = tasks.runs(TASK)[earlier:]
    assert len(runs) <= 6, (
        f"With a mail server that never recovers the task ran {len(runs)} time(s); expected a "
        "few retries at most (the brief: 3), then giving up: retries are up to a limit"
    )
    assert outbox.messages() == [], "No mail can have been sent: the server always failed"
    rows = data.values("blog.Notification", "status", "error", post=pk)
    assert [row["status"] for row in rows] == ["failed"] and rows[0]["error"], (
        f"After the last retry the post's notifications are {rows}; expected one row with status "
        "\"failed\" and the error, for an operator to find in the admin"
    )
