"""Roles: members write, viewers read only (api/permissions.py RoleCanWrite)."""

from collections.abc import Callable

from rest_framework.test import APIClient

from accounts.models import User

COLLECTION = "/api/v1/tasks/"
TASK = {"title": "Plan the sprint", "body": "Pick the stories for the next two weeks."}


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_new_users_are_members(make_user: Callable[[str], User]) -> None:
    assert make_user("newcomer").role == User.Role.MEMBER


def test_a_member_creates(make_user: Callable[[str], User]) -> None:
    response = client_for(make_user("mia")).post(COLLECTION, TASK, format="json")
    assert response.status_code == 201


def test_a_viewer_reads_but_may_not_create(make_user: Callable[[str], User]) -> None:
    viewer = make_user("vic")
    viewer.role = User.Role.VIEWER
    viewer.save()
    client = client_for(viewer)
    assert client.get(COLLECTION).status_code == 200
    response = client.post(COLLECTION, TASK, format="json")
    assert response.status_code == 403
    assert "viewer" in response.json()["detail"]

