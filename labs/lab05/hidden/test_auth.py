"""lab05 hidden checks: registration, the token pair, rotation, logout, "me", refused tokens.

Grader fixtures only. Accounts are registered over HTTP or made with ``data`` and a password
hashed by Django itself; tokens are the ones the submission issues, read (never verified) by
decoding their payload, which any holder of a JWT can do. One token cannot come from the
submission: an *expired* one, since its lifetime is minutes and checks never sleep. It is made
by ``project.expired_access_token``: Simple JWT's own ``AccessToken``, in the submission's
process, signed as the project's SIMPLE_JWT settings sign (the check never sees the key), with
an ``exp`` an hour in the past.

Refused tokens answer 401 with the documented error body and the code ``token_not_valid``.
"""

from __future__ import annotations

import base64
import datetime
import itertools
import json
import re

PASSWORD = "grader-passphrase-that-is-long-enough"
TOKEN, REFRESH, LOGOUT = "/api/auth/token/", "/api/auth/token/refresh/", "/api/auth/logout/"
REGISTER, ME, POSTS = "/api/auth/register/", "/api/auth/me/", "/api/posts/"
HASH_MARKERS = ("pbkdf2_", "md5$", "argon2", "bcrypt", "scrypt", "sha1$")
JWT_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_serial = itertools.count(1)
WHEN = datetime.datetime(2024, 9, 17, 8, 30, tzinfo=datetime.UTC)


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def _claims(token):
    """The payload of a JWT, decoded without checking the signature; {} when it is not one."""
    try:
        payload = token.split(".")[1]
        decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (AttributeError, IndexError, ValueError):
        return {}
    return decoded if isinstance(decoded, dict) else {}


def _account(data, role="reader"):
    """A user with ``role`` and the password PASSWORD (hashed by Django); (pk, username)."""
    from django.contrib.auth.hashers import make_password

    username = f"grader-login-{next(_serial)}"
    return data.user(role=role, username=username, password=make_password(PASSWORD)), username


def _pair(api, username):
    """POST /api/auth/token/ with the right password: the {access, refresh} pair."""
    response = api.post(TOKEN, json_body={"username": username, "password": PASSWORD})
    assert response.status == 200, (
        f"POST {TOKEN} with a right username and password answered {response.status}, expected "
        "200 with {\"access\", \"refresh\"}"
    )
    body = response.json()
    missing = [k for k in ("access", "refresh") if not isinstance(body, dict) or not isinstance(body.get(k), str)]
    assert not missing, f"POST {TOKEN} answered 200 without {missing}: {str(body)[:120]}"
    return body


def _error(response, status, code=None, what=""):
    """``response`` has ``status`` and the documented error body with ``code`` (any stable
    word, when the brief leaves the code open: ``code=None``). ``what`` says what was sent."""
    where = response.request_line + (f" {what}" if what else "")
    wanted = f"the code {code!r}" if code else "lab04's error body"
    assert response.status == status, f"{where} answered {response.status}; expected {status} with {wanted}"
    body = response.json()
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(body, dict) and set(body) == {"error"} and isinstance(error, dict), (
        f"{where} answered {status} with {str(body)[:120]}; expected the documented body "
        "{\"error\": {\"code\", \"message\"}}"
    )
    if code is None:
        got = error.get("code")
        assert isinstance(got, str) and got.strip(), f"{where} answered {status} with code {got!r}; expected a stable word such as 'validation_error'"
    else:
        assert error.get("code") == code, f"{where} answered {status} with code {error.get('code')!r}; expected {code!r}"
    message = error.get("message")
    assert isinstance(message, str) and message.strip(), f"{where}: the error has no message for people (got {message!r})"
    return error


def _tampered(token):
    """``token`` with one character of its signature changed (in the middle: the last
    character of base64url can carry unused bits)."""
    head, payload, signature = token.split(".")
    i = len(signature) // 2
    swapped = "A" if signature[i] != "A" else "B"
    return f"{head}.{payload}.{signature[:i]}{swapped}{signature[i + 1:]}"


# Obtaining (token-obtain) ---------------------------------------------------------------------


def test_obtained_access_token_authenticates_a_request(api, data):
    pk, username = _account(data, role="author")
    pair = _pair(api, username)
    category = data.create("blog.Category", name="Grader tokens", slug="grader-tokens")
    response = api.post(
        POSTS, json_body={"title": "Sent with a token", "body": "Hello.", "category": category}, headers=_bearer(pair["access"])
    )
    assert response.status == 201, (
        f"POST {POSTS} with Authorization: Bearer <the access token from {TOKEN}> answered "
        f"{response.status}, expected 201: the project must authenticate requests by JWT"
    )
    rows = data.values("blog.Post", "author", title="Sent with a token")
    assert rows == [{"author": pk}], f"the post made with the token has the rows {rows}; expected one by the token's user ({pk})"


def test_tokens_are_short_lived(api, data):
    _, username = _account(data)
    pair = _pair(api, username)
    limits = {"access": (300, "5 minutes"), "refresh": (86400, "a day")}
    wrong = []
    for kind, (most, said) in limits.items():
        claims = _claims(pair[kind])
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, int) or not isinstance(iat, int):
            wrong.append(f"the {kind} token from {TOKEN} has no exp and iat claims ({sorted(claims)})")
        elif not 0 < exp - iat <= most:
            wrong.append(f"the {kind} token from {TOKEN} lives {exp - iat} seconds (exp - iat); expected at most {most} ({said})")
    assert not wrong, "; ".join(wrong) + ": keep SIMPLE_JWT's ACCESS_TOKEN_LIFETIME and REFRESH_TOKEN_LIFETIME at their defaults or shorter"


def test_wrong_password_is_401(api, data):
    _, username = _account(data)
    response = api.post(TOKEN, json_body={"username": username, "password": "not-the-password"})
    _error(response, 401, "no_active_account")


# The role claim (token-role) ------------------------------------------------------------------


def test_tokens_carry_the_role(api, data):
    _, username = _account(data, role="editor")
    pair = _pair(api, username)
    got = {kind: _claims(pair[kind]).get("role") for kind in ("access", "refresh")}
    assert got == {"access": "editor", "refresh": "editor"}, (
        f"the tokens from {TOKEN} for an editor carry the role claims {got}; expected "
        "\"role\": \"editor\" in both (add it in get_token())"
    )


def test_refreshed_access_token_keeps_the_role(api, data):
    _, username = _account(data, role="author")
    pair = _pair(api, username)
    response = api.post(REFRESH, json_body={"refresh": pair["refresh"]})
    assert response.status == 200, f"POST {REFRESH} with a fresh refresh token answered {response.status}, expected 200"
    role = _claims(response.json().get("access", "")).get("role")
    assert role == "author", f"the access token from {REFRESH} carries the role {role!r}; expected 'author'"


# Refreshing (token-refresh) -------------------------------------------------------------------


def test_refresh_answers_a_new_refresh_token(api, data):
    _, username = _account(data)
    pair = _pair(api, username)
    response = api.post(REFRESH, json_body={"refresh": pair["refresh"]})
    assert response.status == 200, f"POST {REFRESH} with a fresh refresh token answered {response.status}, expected 200"
    body = response.json()
    keys = sorted(body) if isinstance(body, dict) else body
    assert keys == ["access", "refresh"], (
        f"POST {REFRESH} answered {keys}; expected a new access and a new refresh token (ROTATE_REFRESH_TOKENS)"
    )
    assert body["refresh"] != pair["refresh"], f"POST {REFRESH} answered the same refresh token it was sent"


def test_a_used_refresh_token_is_refused(api, data):
    _, username = _account(data)
    pair = _pair(api, username)
    first = api.post(REFRESH, json_body={"refresh": pair["refresh"]})
    assert first.status == 200, f"POST {REFRESH} with a fresh refresh token answered {first.status}, expected 200"
    again = api.post(REFRESH, json_body={"refresh": pair["refresh"]})
    _error(again, 401, "token_not_valid")


# Logging out (logout) -------------------------------------------------------------------------


def test_logout_answers_204(api, data):
    _, username = _account(data)
    pair = _pair(api, username)
    response = api.post(LOGOUT, json_body={"refresh": pair["refresh"]})
    assert response.status == 204, f"POST {LOGOUT} with a valid refresh token answered {response.status}, expected 204"


def test_refresh_token_is_refused_after_logout(api, data):
    _, username = _account(data)
    pair = _pair(api, username)
    out = api.post(LOGOUT, json_body={"refresh": pair["refresh"]})
    assert out.status == 204, f"POST {LOGOUT} with a valid refresh token answered {out.status}, expected 204"
    _error(api.post(REFRESH, json_body={"refresh": pair["refresh"]}), 401, "token_not_valid")
    _error(api.post(LOGOUT, json_body={"refresh": pair["refresh"]}), 401, "token_not_valid")


# Refused tokens (bad-tokens) ------------------------------------------------------------------


def test_an_expired_access_token_is_401(api, data, project):
    pk, _ = _account(data)
    expired = project.expired_access_token(pk)
    _error(api.get(POSTS, headers=_bearer(expired)), 401, "token_not_valid", "with an access token that expired an hour ago")


def test_a_tampered_access_token_is_401(api, data):
    _, username = _account(data)
    access = _pair(api, username)["access"]
    _error(api.get(POSTS, headers=_bearer(_tampered(access))), 401, "token_not_valid", "with an access token whose signature was changed")


def test_a_tampered_refresh_token_is_401(api, data):
    _, username = _account(data)
    refresh = _pair(api, username)["refresh"]
    _error(api.post(REFRESH, json_body={"refresh": _tampered(refresh)}), 401, "token_not_valid", "with a refresh token whose signature was changed")


def test_writing_without_a_token_is_401(api, data):
    category = data.create("blog.Category", name="Grader anonymous", slug="grader-anonymous")
    response = api.post(POSTS, json_body={"title": "Anonymous", "body": "Hello.", "category": category})
    _error(response, 401, "not_authenticated", "without a token")


# Registering (register) -----------------------------------------------------------------------


def test_register_creates_a_reader(api, data):
    username = f"grader-new-{next(_serial)}"
    response = api.post(REGISTER, json_body={"username": username, "password": PASSWORD, "role": "admin"})
    assert response.status == 201, f"POST {REGISTER} with a new username and a strong password answered {response.status}, expected 201"
    body = response.json()
    shown = {k: body.get(k) for k in ("username", "role")} if isinstance(body, dict) else body
    assert shown == {"username": username, "role": "reader"}, (
        f"POST {REGISTER} (asking for the role admin) answered {shown}; expected the new account as a reader"
    )
    rows = data.values("accounts.User", "role", username=username)
    assert rows == [{"role": "reader"}], f"after POST {REGISTER} the account's rows are {rows}; expected one reader"
    login = api.post(TOKEN, json_body={"username": username, "password": PASSWORD})
    assert login.status == 200, f"the account made by POST {REGISTER} cannot obtain a token ({login.status}): store the password with set_password()/create_user()"


def test_register_refuses_weak_passwords(api, data):
    weak = {"short": "Ab1!", "common": "password123", "numeric": "8675309123456"}
    for why, password in weak.items():
        username = f"grader-weak-{next(_serial)}"
        response = api.post(REGISTER, json_body={"username": username, "password": password})
        sent = f"with the {why} password {password!r}"
        fields = _error(response, 400, what=sent).get("fields") or {}
        assert "password" in fields, f"POST {REGISTER} {sent} answered 400 without naming the field 'password': {fields}"
        assert data.count("accounts.User", username=username) == 0, f"POST {REGISTER} with a {why} password answered 400 but stored the account"


def test_register_refuses_a_password_like_the_username(api, data):
    username = f"grader-similar-{next(_serial)}"
    password = username + "x"
    sent = f"as {username!r} with the password {password!r}, too like the username"
    error = _error(api.post(REGISTER, json_body={"username": username, "password": password}), 400, what=sent)
    assert "password" in (error.get("fields") or {}), (
        f"POST {REGISTER} {sent} answered 400 without naming 'password': pass user= to validate_password()"
    )


def test_register_refuses_a_taken_username(api, data):
    _, username = _account(data)
    response = api.post(REGISTER, json_body={"username": username, "password": PASSWORD})
    error = _error(response, 400, what=f"with the taken username {username!r}")
    assert "username" in (error.get("fields") or {}), (
        f"POST {REGISTER} with a taken username answered 400 without naming the field 'username'"
    )


# Me (me) --------------------------------------------------------------------------------------


def test_me_shows_the_bearers_account(api, data):
    pk, username = _account(data, role="author")
    pair = _pair(api, username)
    response = api.get(ME, headers=_bearer(pair["access"]))
    assert response.status == 200, f"GET {ME} with a valid access token answered {response.status}, expected 200"
    body = response.json()
    got = {k: body.get(k) for k in ("id", "username", "role")} if isinstance(body, dict) else body
    expected = {"id": pk, "username": username, "role": "author"}
    assert got == expected, f"GET {ME} answered {got}; expected the token's own account {expected}"


def test_me_without_a_token_is_401(api, data):
    _error(api.get(ME), 401, "not_authenticated")


# Nothing leaks (no-leaks) ---------------------------------------------------------------------


def test_no_response_leaks_a_password_hash_or_a_token(api, data):
    """Walk the endpoints the way clients do; only the token endpoints may answer a token, and
    no body anywhere holds a password hash.

    The walk judges whatever each endpoint answers and does not depend on other criteria's
    features (one bug, one criterion): the accounts are made with ``data``, and the signed-in
    requests are sent with ``api.authenticate``, not with the submission's tokens. It needs one
    thing to judge: a body that shows an account (registration's or "me"'s)."""
    username = f"grader-walker-{next(_serial)}"
    registered = api.post(REGISTER, json_body={"username": username, "password": PASSWORD, "email": "w@example.com"})
    reader_pk, reader_name = _account(data)
    obtained = api.post(TOKEN, json_body={"username": reader_name, "password": PASSWORD})
    pair = obtained.json() if obtained.status == 200 else {}
    pair = {k: v for k, v in pair.items() if isinstance(v, str)} if isinstance(pair, dict) else {}
    refreshed = api.post(REFRESH, json_body={"refresh": pair.get("refresh", "")})
    again = refreshed.json() if refreshed.status == 200 else {}
    latest = {**pair, **({k: v for k, v in again.items() if isinstance(v, str)} if isinstance(again, dict) else {})}
    writer_pk, _ = _account(data, role="author")
    category = data.create("blog.Category", name="Grader walk", slug="grader-walk")
    published = data.create(
        "blog.Post", title="Grader walk", slug=f"grader-walk-{next(_serial)}", body="Read me.",
        author=data.user(role="author"), category=category, status="published",
        published_at=WHEN,
    )
    api.authenticate(reader_pk)
    me_reader = api.get(ME)
    commented = api.post(f"{POSTS}{published}/comments/", json_body={"body": "Nice."})
    api.authenticate(writer_pk)
    me_writer = api.get(ME)
    created = api.post(POSTS, json_body={"title": "Walked", "body": "Hi.", "category": category})
    api.authenticate(None)
    steps = [
        registered,
        me_reader,
        me_writer,
        created,
        commented,
        api.get(POSTS),
        api.get(f"{POSTS}{published}/"),
        api.get(f"{POSTS}{published}/comments/"),
        api.post(REGISTER, json_body={"username": username, "password": "short"}),
        api.post(TOKEN, json_body={"username": reader_name, "password": "wrong-password"}),
        api.get(ME, headers=_bearer(_tampered(pair["access"]))) if "access" in pair else api.get(ME),
        api.post(LOGOUT, json_body={"refresh": latest.get("refresh", "")}),
        obtained,
        refreshed,
        obtained_response(api, reader_name),
    ]
    accounts = [
        r.request_line for r in (registered, me_reader, me_writer)
        if r.status < 300 and isinstance(body := _json_or_none(r), dict) and body.get("username")
    ]
    assert accounts, (
        f"neither POST {REGISTER} nor GET {ME} (signed in) answered an account ({registered.status}, {me_reader.status}): "
        "with no account shown there is nothing to judge; finish registration or \"me\" first"
    )
    tokens = set(latest.values())
    for response in steps:
        text = response.body.decode("utf-8", "replace")
        hashes = [marker for marker in HASH_MARKERS if marker in text]
        assert not hashes, (
            f"{response.request_line} answered a password hash ({hashes[0]}…): never serialize the password field"
        )
        if response.path in (TOKEN, REFRESH):
            continue  # the two endpoints whose job is to answer tokens
        leaked = [t for t in tokens if t in text] or JWT_SHAPE.findall(text)
        assert not leaked, (
            f"{response.request_line} answered a token ({leaked[0][:16]}…): only {TOKEN} and {REFRESH} answer tokens"
        )


def _json_or_none(response):
    try:
        return json.loads(response.body)
    except ValueError:
        return None


def obtained_response(api, username):
    """One more token request, so the obtain endpoint's own body is checked for hashes too."""
    return api.post(TOKEN, json_body={"username": username, "password": PASSWORD})
