"""The admin site, used as an editor uses it: through its pages, logged in as a superuser.

`admin_client` is pytest-django's test client, already logged in as a superuser.
"""

import pytest
from django.apps import apps
from django.test import Client

from tests.factories import make_post

pytestmark = pytest.mark.django_db

POSTS = "/admin/blog/post/"


@pytest.mark.parametrize(
    "page",
    [
        "/admin/accounts/user/",
        "/admin/blog/category/",
        "/admin/blog/tag/",
        POSTS,
        "/admin/blog/comment/",
        "/admin/blog/bannedterm/",
    ],
)
def test_every_model_has_an_admin_page(admin_client: Client, page: str) -> None:
    assert admin_client.get(page).status_code == 200


def test_the_post_list_shows_filters_and_columns(admin_client: Client) -> None:
    make_post(title="Visible in the list", status="in_review")

    page = admin_client.get(POSTS).content.decode()

    assert "Visible in the list" in page
    assert 'id="changelist-filter"' in page
    for column in ("column-author", "column-category", "column-status"):
        assert column in page


def test_posts_can_be_filtered_by_status(admin_client: Client) -> None:
    make_post(title="Still a draft")
    make_post(title="Out in the world", status="published")

    page = admin_client.get(POSTS, {"status__exact": "published"}).content.decode()

    assert "Out in the world" in page
    assert "Still a draft" not in page


def test_posts_can_be_searched_by_title(admin_client: Client) -> None:
    make_post(title="Indexes explained")
    make_post(title="Something else")

    page = admin_client.get(POSTS, {"q": "indexes"}).content.decode()

    assert "Indexes explained" in page
    assert "Something else" not in page


def test_the_archive_action_archives_the_selected_posts(admin_client: Client) -> None:
    chosen = [make_post(status="published"), make_post(status="draft")]
    untouched = make_post(status="draft")

    response = admin_client.post(
        POSTS,
        {"action": "archive", "_selected_action": [post.pk for post in chosen]},
    )

    assert response.status_code == 302
    Post = apps.get_model("blog", "Post")
    assert set(Post.objects.filter(status="archived").values_list("pk", flat=True)) == {
        post.pk for post in chosen
    }
    untouched.refresh_from_db()
    assert untouched.status == "draft"


def test_the_user_list_shows_roles(admin_client: Client) -> None:
    page = admin_client.get("/admin/accounts/user/", {"role__exact": "reader"})

    assert page.status_code == 200
    assert "column-role" in page.content.decode()
