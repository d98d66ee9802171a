"""lab02 hidden checks: the admin an editor works in. Grader fixtures only."""

from __future__ import annotations

import itertools

POST = "blog.Post"
_serial = itertools.count(1)


def _post_admin(models):
    post = models.admin(POST)
    assert post is not None, "blog.Post is not registered in the admin: use @admin.register(Post) in blog/admin.py"
    return post


def _archive_action(post_admin):
    own = [name for name in post_admin["actions"] if name != "delete_selected"]
    archive = [name for name in own if "archiv" in name.lower()]
    assert archive, (
        f"the Post admin has no archive action (its actions: {', '.join(own) or 'none'}); add one "
        "named like 'archive' with @admin.action"
    )
    return archive[0]


def test_post_admin_lists_filters_and_searches(models):
    post = _post_admin(models)
    missing = [column for column in ("title", "author", "status") if column not in post["list_display"]]
    assert not missing, f"PostAdmin.list_display lacks {', '.join(missing)} (it shows {post['list_display']})"
    assert "status" in post["list_filter"], f"PostAdmin.list_filter lacks 'status' (it has {post['list_filter'] or 'nothing'})"
    assert any("title" in field for field in post["search_fields"]), (
        f"PostAdmin.search_fields does not search titles (it has {post['search_fields'] or 'nothing'})"
    )


def test_archive_action_archives_only_the_selected_posts(models, data):
    action = _archive_action(_post_admin(models))
    author = data.user()
    category = data.create("blog.Category", name="Archive checks", slug="archive-checks")

    def post(status):
        n = next(_serial)
        extra = {"published_at": "2024-03-01T10:00:00+00:00"} if status == "published" else {}
        return data.create(
            POST, title=f"Old news {n}", slug=f"old-news-{n}", body="Outdated.", author=author,
            category=category, status=status, **extra,
        )

    chosen = [post("published"), post("in_review")]
    untouched = post("published")
    status = data.admin_action(POST, action, chosen)
    assert status in (200, 302), f"running the {action!r} action answered HTTP {status}"
    archived = {row["id"] for row in data.values(POST, "id", status="archived")}
    assert archived == set(chosen), (
        f"after the {action!r} action on two posts, {len(archived & set(chosen))} of them are "
        f"archived{' and an unselected one too' if untouched in archived else ''}"
    )


def test_every_model_has_an_admin(models):
    labels = [models.user_model(), "blog.Category", "blog.Tag", "blog.Comment", "blog.BannedTerm"]
    missing = [label for label in labels if models.admin(label) is None]
    assert not missing, f"not registered in the admin: {', '.join(missing)}"
    user = models.admin(models.user_model())
    assert "role" in user["list_display"] or "role" in user["list_filter"], (
        "the user admin shows no role: add 'role' to its list_display and list_filter"
    )
