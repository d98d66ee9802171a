"""Accounts and tokens through HTTP, and the registration service on its own."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import Role, User
from accounts.services import user_register
from tests.factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"


def claims(token: str) -> dict[str, Any]:
    """The payload of a JWT: base64, readable by anyone who holds the token."""
    payload = token.split(".")[1]
    padded = payload + "=" * (-len(payload) % 4)
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(padded))
    return decoded


@pytest.fixture
def ada() -> User:
    user: User = make_user(username="ada", role=Role.AUTHOR)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def pair(api_client: APIClient, ada: User) -> dict[str, str]:
    response = api_client.post(
        "/api/auth/token/", {"username": "ada", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    tokens: dict[str, str] = response.json()
    return tokens


def test_register_creates_a_reader(api_client: APIClient) -> None:
    response = api_client.post(
        "/api/auth/register/", {"username": "grace", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["role"] == "reader"
    assert User.objects.get(username="grace").check_password(PASSWORD)


def test_register_ignores_a_requested_role(api_client: APIClient) -> None:
    response = api_client.post(
        "/api/auth/register/",
        {"username": "mallory", "password": PASSWORD, "role": "admin"},
        format="json",
    )

    assert response.status_code == 201
    assert User.objects.get(username="mallory").role == Role.READER


@pytest.mark.parametrize("password", ["short", "password", "314159265358", "grace-hopper"])
def test_register_refuses_a_weak_password(api_client: APIClient, password: str) -> None:
    response = api_client.post(
        "/api/auth/register/",
        {"username": "grace-hopper", "password": password},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["password"]
    assert not User.objects.filter(username="grace-hopper").exists()


def test_register_refuses_a_taken_username(api_client: APIClient, ada: User) -> None:
    response = api_client.post(
        "/api/auth/register/", {"username": "ada", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["username"]


def test_user_register_hashes_the_password() -> None:
    user = user_register(username="lin", password=PASSWORD, email="lin@example.com")

    assert user.role == Role.READER
    assert user.password != PASSWORD
    assert user.check_password(PASSWORD)


def test_obtain_refuses_a_wrong_password(api_client: APIClient, ada: User) -> None:
    response = api_client.post(
        "/api/auth/token/", {"username": "ada", "password": "wrong"}, format="json"
    )

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "no_active_account"


def test_tokens_carry_the_role(pair: dict[str, str]) -> None:
    assert claims(pair["access"])["role"] == "author"
    assert claims(pair["refresh"])["role"] == "author"


def test_refresh_rotates_the_refresh_token(api_client: APIClient, pair: dict[str, str]) -> None:
    first = api_client.post("/api/auth/token/refresh/", {"refresh": pair["refresh"]})
    again = api_client.post("/api/auth/token/refresh/", {"refresh": pair["refresh"]})

    assert first.status_code == 200
    assert first.json()["refresh"] != pair["refresh"]
    assert claims(first.json()["access"])["role"] == "author"
    assert again.status_code == 401


def test_logout_blacklists_the_refresh_token(api_client: APIClient, pair: dict[str, str]) -> None:
    response = api_client.post("/api/auth/logout/", {"refresh": pair["refresh"]})
    refreshed = api_client.post("/api/auth/token/refresh/", {"refresh": pair["refresh"]})

    assert response.status_code == 204
    assert refreshed.status_code == 401
    assert refreshed.json()["error"]["code"] == "token_not_valid"


def test_logout_refuses_a_token_that_is_not_one(api_client: APIClient) -> None:
    response = api_client.post("/api/auth/logout/", {"refresh": "not-a-token"})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


def test_me_shows_the_bearer_account(
    api_client: APIClient, pair: dict[str, str], ada: User
) -> None:
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")

    response = api_client.get("/api/auth/me/")

    assert response.json() == {"id": ada.pk, "username": "ada", "email": "", "role": "author"}


def test_me_refuses_a_missing_or_tampered_token(
    api_client: APIClient, pair: dict[str, str]
) -> None:
    anonymous = api_client.get("/api/auth/me/")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access'][:-8]}AAAAAAAA")
    tampered = api_client.get("/api/auth/me/")

    assert (anonymous.status_code, tampered.status_code) == (401, 401)
    assert tampered.json()["error"]["code"] == "token_not_valid"
