"""lab10 hidden checks: liveness and readiness, failure drills, metrics for Prometheus.

Grader fixtures only: ``api`` (with ``data``, which gives the check the database); ``redis_outage`` stops the grader's Redis for the check (the
port refuses connections); ``database_outage`` points the project's connection at a database
that cannot be reached; ``tasks`` and ``outbox`` run lab09's task on a real worker with a mail
server that fails. Metrics are parsed with prometheus-client's own text parser.
"""

from __future__ import annotations

import itertools

from prometheus_client.parser import text_string_to_metric_families

LIVE = "/health/live"
READY = "/health/ready"
POSTS = "/api/posts/"
METRICS = "/metrics"
_serial = itertools.count(1)


def _ready(api):
    response = api.get(READY)
    body = response.json() if response.body else None
    return response, body


# readiness -----------------------------------------------------------------------------------


def test_liveness_and_readiness_answer_200_when_all_is_well(data, api):
    live = api.get(LIVE)
    assert live.status == 200, f"GET {LIVE} answered {live.status}; expected 200"
    response, body = _ready(api)
    assert response.status == 200, (
        f"GET {READY} answered {response.status} with the database and Redis both up; "
        f"expected 200 ({body})"
    )
    text = str(body).lower()
    assert "database" in text and "redis" in text, (
        f"GET {READY} answered {body}; the body must name what it checked: the database and Redis"
    )


def test_with_redis_down_readiness_is_503_naming_it_and_liveness_stays_200(
    data, api, redis_outage
):
    response, body = _ready(api)
    assert response.status == 503, (
        f"With Redis stopped, GET {READY} answered {response.status}; expected 503: an instance "
        "that cannot queue tasks is not ready"
    )
    assert "redis" in str(body).lower(), f"With Redis down, GET {READY} answered {body}: name Redis"
    live = api.get(LIVE)
    assert live.status == 200, (
        f"With Redis stopped, GET {LIVE} answered {live.status}; liveness checks nothing but the "
        "process, so it stays 200 (otherwise the orchestrator restarts healthy processes)"
    )
    listed = api.get(POSTS)
    assert listed.status == 200, (
        f"With Redis stopped, GET {POSTS} answered {listed.status}; reads must still answer"
    )


def test_with_the_database_down_readiness_is_503_naming_it(api, database_outage):
    response, body = _ready(api)
    assert response.status == 503, (
        f"With the database unreachable, GET {READY} answered {response.status}; expected 503"
    )
    assert "database" in str(body).lower(), (
        f"With the database down, GET {READY} answered {body}: name the database"
    )
    live = api.get(LIVE)
    assert live.status == 200, (
        f"With the database unreachable, GET {LIVE} answered {live.status}; expected 200"
    )


# outage-errors -------------------------------------------------------------------------------


def test_with_the_database_down_the_api_answers_503_in_the_error_format(api, database_outage):
    response = api.get(POSTS)
    assert response.status == 503, (
        f"With the database unreachable, GET {POSTS} answered {response.status}; expected 503 "
        "(the service is unavailable, which a 500 does not say)"
    )
    body = response.json()
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(error, dict) and isinstance(error.get("code"), str) and isinstance(
        error.get("message"), str
    ), (
        f"With the database down, GET {POSTS} answered {body}; expected lab04's error body "
        "{\"error\": {\"code\": ..., \"message\": ...}}"
    )


# metrics -------------------------------------------------------------------------------------


def _metrics(api):
    response = api.get(METRICS)
    assert response.status == 200, (
        f"GET {METRICS} with the test settings answered {response.status}; expected 200 (the "
        "metrics need a token only where METRICS_TOKEN is set, and are off in production)"
    )
    try:
        return list(text_string_to_metric_families(response.body.decode("utf-8", "replace")))
    except Exception as exc:
        raise AssertionError(
            f"GET {METRICS} is not in Prometheus' text format ({exc}); serve "
            "prometheus_client.generate_latest() with CONTENT_TYPE_LATEST"
        ) from None


def _request_counts(families):
    """{(view, method, status): value} of each counter labelled by view, method and status."""
    found = {}
    for family in families:
        if family.type != "counter":
            continue
        for sample in family.samples:
            labels = sample.labels
            if sample.name.endswith("_total") and {"view", "method", "status"} <= set(labels):
                key = (family.name, labels["view"], labels["method"], labels["status"])
                found[key] = found.get(key, 0.0) + sample.value
    return found


def _published_post(data, n):
    import datetime

    author = data.user(role="author", username=f"grader-metrics-author-{n}")
    category = data.create("blog.Category", name=f"Grader counted {n}", slug=f"grader-counted-{n}")
    return data.create(
        "blog.Post",
        title=f"Grader counted {n}",
        slug=f"grader-counted-{n}",
        body="Written by the grader.",
        author=author,
        category=category,
        status="published",
        published_at=datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.UTC),
    )


def test_requests_are_counted_by_view_method_and_status(data, api):
    first, second = (_published_post(data, next(_serial)) for _ in range(2))
    before = _request_counts(_metrics(api))
    # Three requests to one route with two different paths, one to another route: counted by
    # the route's name, the first route's series grows by 3 and the second's by 1.
    for pk in (first, first, second):
        detail = api.get(f"{POSTS}{pk}/")
        assert detail.status == 200, f"GET {POSTS}{pk}/ answered {detail.status}; expected 200"
    api.get(LIVE)
    families = _metrics(api)
    after = _request_counts(families)
    assert after, (
        f"GET {METRICS} has no counter labelled view, method and status: count every response "
        "(blog_http_requests_total{view, method, status})"
    )
    grown = {key: after[key] - before.get(key, 0.0) for key in after}
    detail = [key for key, n in grown.items() if n == 3 and key[2] == "GET" and key[3] == "200"]
    live = [key for key, n in grown.items() if n == 1 and key[2] == "GET" and key[3] == "200"]
    assert detail and live and {k[1] for k in detail}.isdisjoint({k[1] for k in live}), (
        f"After GET {POSTS}{first}/ twice, GET {POSTS}{second}/ once and GET {LIVE} once, the "
        f"counters grew by { {k: v for k, v in grown.items() if v} }; expected the post detail's "
        "series +3 and liveness' +1 (method GET, status 200), told apart by the view label: the "
        "route's name (request.resolver_match.view_name), never the path, whose ids would make "
        "a new series for every post"
    )
    histograms = [f for f in families if f.type == "histogram"]
    assert any(
        any(s.name.endswith("_bucket") for s in f.samples) for f in histograms
    ), f"GET {METRICS} has no latency histogram (blog_http_request_duration_seconds)"


def test_a_task_that_fails_for_good_is_counted(data, api, tasks, outbox):
    def failures(families):
        total = 0.0
        for family in families:
            name = family.name.lower()
            if family.type == "counter" and "task" in name and ("fail" in name or "error" in name):
                total += sum(s.value for s in family.samples if s.name.endswith("_total"))
        return total

    before_families = _metrics(api)
    assert any(
        f.type == "counter" and "task" in f.name.lower() and "fail" in f.name.lower()
        for f in before_families
    ), f"GET {METRICS} has no counter of task failures (blog_task_failures_total)"
    before = failures(before_families)
    n = next(_serial)
    author = data.user(role="author", email=f"author-metrics{n}@grader.example")
    editor = data.user(role="editor", email=f"editor-metrics{n}@grader.example")
    reader = data.user(role="reader", email=f"reader-metrics{n}@grader.example")
    data.create("blog.Subscription", reader=reader, author=author)
    category = data.create("blog.Category", name=f"Grader metrics {n}", slug=f"grader-metrics-{n}")
    pk = data.create(
        "blog.Post",
        title=f"Grader metrics {n}",
        slug=f"grader-metrics-{n}",
        body="Written by the grader.",
        author=author,
        category=category,
        status="in_review",
    )
    outbox.fail_next(1000)
    api.authenticate(editor)
    response = api.post(f"{POSTS}{pk}/transition/", json_body={"to": "published"})
    api.authenticate(None)
    assert response.status == 200, f"Publishing post {pk} answered {response.status}"
    tasks.wait()
    after = failures(_metrics(api))
    assert after - before == 1, (
        f"With a mail server that never recovers, the notification task failed for good once, "
        f"and the task-failure counter grew by {after - before:g}; expected 1 (count failures "
        "in Celery's task_failure signal, not retries)"
    )
