"""The blog's reads: what they return, and what they cost in queries."""

from __future__ import annotations

import pytest
from pytest_django import DjangoAssertNumQueries

from blog.selectors import category_list, comment_list, post_get, post_list, tag_list
from tests.factories import make_category, make_comment, make_post, make_tag

pytestmark = pytest.mark.django_db


def read_everything_shown(count: int) -> None:
    for post in post_list()[:count]:
        _ = (post.author.username, post.category.name, [tag.name for tag in post.tags.all()])


@pytest.mark.parametrize("posts", [1, 5])
def test_post_list_costs_two_queries_however_many_posts(
    posts: int, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    for _ in range(posts):
        make_post().tags.set([make_tag(), make_tag()])

    with django_assert_num_queries(2):  # posts with authors and categories; their tags
        read_everything_shown(posts)


def test_post_list_is_newest_first() -> None:
    first, second = make_post(), make_post()

    assert list(post_list()) == [second, first]


def test_post_get_finds_a_post_or_returns_none() -> None:
    post = make_post()

    assert post_get(post_id=post.pk) == post
    assert post_get(post_id=post.pk + 1) is None


def test_comment_list_is_oldest_first_with_authors(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    post = make_post()
    first, second = make_comment(post=post), make_comment(post=post)

    with django_assert_num_queries(1):
        authors = [comment.author for comment in comment_list(post=post)]
    assert authors == [first.author, second.author]


def test_categories_and_tags_are_listed_by_name() -> None:
    for name in ("b", "a"):
        make_category(name=name)
        make_tag(name=name)

    assert [c.name for c in category_list()] == ["a", "b"]
    assert [t.name for t in tag_list()] == ["a", "b"]
