"""Authentication through HTTP: registration, the token pair, rotation, logout, "me".

Like every test in this folder it reaches the project only through URLs and the app registry,
so in an unfinished project each test fails on its own, naming the missing behaviour.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from tests.factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-and-unusual-passphrase"
TOKEN, REFRESH, LOGOUT = "/api/auth/token/", "/api/auth/token/refresh/", "/api/auth/logout/"
REGISTER, ME = "/api/auth/register/", "/api/auth/me/"


def claims(token: str) -> dict[str, Any]:
    """A JWT's payload, read without checking its signature (anyone can read a JWT)."""
    payload = token.split(".")[1]
    padded = payload + "=" * (-len(payload) % 4)
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(padded))
    return decoded


def tokens_for(client: APIClient, username: str) -> dict[str, str]:
    response = client.post(TOKEN, {"username": username, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    pair: dict[str, str] = response.json()
    return pair


def with_password(**fields: Any) -> Any:
    user = make_user(**fields)
    user.set_password(PASSWORD)
    user.save()
    return user


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_register_creates_a_reader_and_answers_no_secret(api_client: APIClient) -> None:
    response = api_client.post(
        REGISTER,
        {"username": "grace", "email": "grace@example.com", "password": PASSWORD, "role": "admin"},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("username", "email", "role")} == {
        "username": "grace",
        "email": "grace@example.com",
        "role": "reader",
    }
    assert "password" not in body
    assert "access" not in body
    user = get_user_model().objects.get(username="grace")
    assert user.role == "reader"
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize("password", ["short", "password123", "12345678901", "grace-example"])
def test_register_refuses_a_weak_password(api_client: APIClient, password: str) -> None:
    response = api_client.post(
        REGISTER, {"username": "grace-example", "password": password}, format="json"
    )

    assert_error(response, 400, "validation_error")
    assert "password" in response.json()["error"]["fields"]
    assert not get_user_model().objects.filter(username="grace-example").exists()


def test_register_refuses_a_taken_username(api_client: APIClient) -> None:
    make_user(username="taken")

    response = api_client.post(REGISTER, {"username": "taken", "password": PASSWORD}, format="json")

    assert_error(response, 400, "validation_error")
    assert "username" in response.json()["error"]["fields"]


def test_obtain_answers_a_pair_whose_access_token_authenticates(api_client: APIClient) -> None:
    user = with_password(role="author")

    pair = tokens_for(api_client, user.username)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    response = api_client.get(ME)

    assert response.status_code == 200
    expected = {"id": user.pk, "username": user.username, "email": "", "role": "author"}
    assert response.json() == expected


def test_obtain_refuses_a_wrong_password(api_client: APIClient) -> None:
    user = with_password()

    response = api_client.post(
        TOKEN, {"username": user.username, "password": "not-it"}, format="json"
    )

    assert_error(response, 401, "no_active_account")


def test_tokens_carry_the_role(api_client: APIClient) -> None:
    user = with_password(role="editor")

    pair = tokens_for(api_client, user.username)
    refreshed = api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json").json()

    assert claims(pair["access"])["role"] == "editor"
    assert claims(refreshed["access"])["role"] == "editor"


def test_refresh_rotates_and_refuses_the_old_token(api_client: APIClient) -> None:
    pair = tokens_for(api_client, with_password().username)

    first = api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json")
    again = api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json")

    assert first.status_code == 200
    assert set(first.json()) == {"access", "refresh"}
    assert first.json()["refresh"] != pair["refresh"]
    assert_error(again, 401, "token_not_valid")


def test_logout_blacklists_the_refresh_token(api_client: APIClient) -> None:
    pair = tokens_for(api_client, with_password().username)

    response = api_client.post(LOGOUT, {"refresh": pair["refresh"]}, format="json")
    refresh = api_client.post(REFRESH, {"refresh": pair["refresh"]}, format="json")

    assert response.status_code == 204
    assert_error(refresh, 401, "token_not_valid")


def test_me_without_a_token_is_401(api_client: APIClient) -> None:
    assert_error(api_client.get(ME), 401, "not_authenticated")


def test_a_tampered_token_is_401(api_client: APIClient) -> None:
    access = tokens_for(api_client, with_password().username)["access"]
    header, payload, signature = access.split(".")
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    tampered = f"{header}.{payload}.{signature[:middle]}{flipped}{signature[middle + 1:]}"

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tampered}")

    assert_error(api_client.get(ME), 401, "token_not_valid")
