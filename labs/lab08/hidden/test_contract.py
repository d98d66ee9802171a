"""lab08 hidden check: schemathesis tries every operation of the served schema.

The ``contract`` fixture runs schemathesis (a fixed number of examples per operation,
derandomised, within a time budget) through ``api``, and judges each answer: no 5xx, a
documented status code and content type, a body valid against the documented schema. Each
operation is sent by an author of its own (so no rate of lab07 is used up by another
operation's requests), who owns a published post, a draft and a comment; half the examples of
an operation with ``{post_id}`` use one of that author's posts, so operations are also tried
where they answer 2xx, not only 404.
"""

from __future__ import annotations

import datetime
import itertools

WHEN = datetime.datetime(2024, 9, 17, 8, 30, tzinfo=datetime.UTC)
_serial = itertools.count(1)


def _served(api):
    response = api.get("/api/schema/?format=json")
    assert response.status == 200, (
        f"GET /api/schema/?format=json answered {response.status}: schemathesis needs the schema "
        "the project serves (see the schema-served criterion first)"
    )
    return response.json()


def _world(data, label):
    """A new author with a published post (with a comment) and a draft in a new category."""
    n = next(_serial)
    author = data.user(role="author")
    category = data.create("blog.Category", name=f"Grader fuzz {n}", slug=f"grader-fuzz-{n}")
    data.create("blog.Tag", name=f"grader fuzz {n}", slug=f"grader-fuzz-{n}")

    def post(status):
        m = next(_serial)
        return data.create(
            "blog.Post",
            title=f"Grader fuzz post {m}",
            slug=f"grader-fuzz-post-{m}",
            body="Written by the grader.",
            author=author,
            category=category,
            status=status,
            published_at=WHEN if status == "published" else None,
        )

    published, draft = post("published"), post("draft")
    data.create("blog.Comment", post=published, author=author, body="A grader's comment.")
    # Changing or moving a post is tried on the author's draft, everything else on the
    # published post (which the comments and the history belong to).
    changes = label.startswith(("PATCH", "DELETE", "POST /api/posts/{post_id}/transition"))
    return author, draft if changes else published


def test_schemathesis_finds_no_broken_operation(api, data, contract):
    from_schema = _served(api)

    def caller(label):
        author, post = _world(data, label)
        return contract.caller(user=author, path_parameters={"post_id": post})

    report = contract.run(from_schema, caller)
    assert report.ok, report.feedback()
