"""lab02 hidden checks: the blog's models and how they relate. Grader fixtures only."""

from __future__ import annotations

BLOG_MODELS = ("blog.Category", "blog.Tag", "blog.Post", "blog.Comment", "blog.BannedTerm")


def _expect_relation(models, label, field, kind, to):
    relation = models.relation(label, field)
    assert relation is not None, f"{label} has no relation field {field!r} (expected a {kind} to {to})"
    got = (relation["kind"], relation["to"])
    assert got == (kind, to), f"{label}.{field} is a {got[0]} to {got[1]}; expected a {kind} to {to}"
    return relation


def test_blog_models_exist(models):
    missing = [label for label in BLOG_MODELS if not models.exists(label)]
    assert not missing, f"blog/models.py does not define {', '.join(m.split('.')[1] for m in missing)}"


def test_post_relations(models):
    user = models.user_model()
    _expect_relation(models, "blog.Post", "author", "foreign_key", user)
    _expect_relation(models, "blog.Post", "category", "foreign_key", "blog.Category")
    _expect_relation(models, "blog.Post", "tags", "many_to_many", "blog.Tag")


def test_comment_relations(models):
    user = models.user_model()
    post = _expect_relation(models, "blog.Comment", "post", "foreign_key", "blog.Post")
    assert post["on_delete"] == "CASCADE", (
        f"Comment.post uses on_delete={post['on_delete']}; a post's comments should go with it (CASCADE)"
    )
    _expect_relation(models, "blog.Comment", "author", "foreign_key", user)


def test_relations_hold_rows(data):
    author = data.user()
    reader = data.user()
    category = data.create("blog.Category", name="Field notes", slug="field-notes")
    tags = [
        data.create("blog.Tag", name="orm", slug="orm"),
        data.create("blog.Tag", name="sql", slug="sql"),
    ]
    post = data.create(
        "blog.Post",
        title="What the database remembers",
        slug="what-the-database-remembers",
        body="Constraints outlive code.",
        author=author,
        category=category,
        tags=tags,
    )
    data.create("blog.Comment", post=post, author=reader, body="Agreed.")

    assert data.values("blog.Post", "author", "category", pk=post) == [
        {"author": author, "category": category}
    ]
    assert data.count("blog.Post", pk=post, tags__in=tags) == 2, "a post's tags were not stored"
    assert data.count("blog.Comment", post=post, author=reader) == 1
