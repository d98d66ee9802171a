"""lab07 hidden checks: request rates per kind of caller, and the health endpoint exempt.

Grader fixtures only, and no sleeping: the ``clock`` fixture replaces the timer of DRF's
``SimpleRateThrottle`` (which every throttle built on it reads) for one check, and
``clock.advance(seconds)`` moves time on. The grader empties the caches before every check, so
each check starts with every caller's count at zero.

Rates (labs/lab07/README.md): anonymous 20 a minute per IP address, readers 60 a minute per
user, authors, editors and admins 120 a minute per user. Over the rate: 429, the error body with
the code ``throttled``, and a ``Retry-After`` header in whole seconds.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

CHEAP = "/api/categories/"
HEALTH = "/api/health/"


def _statuses(api, count, path=CHEAP):
    return [api.get(path).status for _ in range(count)]


def _allowed(api, count, who):
    got = _statuses(api, count)
    refused = [n + 1 for n, status in enumerate(got) if status != 200]
    assert not refused, (
        f"GET {CHEAP} as {who}: requests {refused[:5]} of {count} answered {sorted(set(got) - {200})}; "
        f"expected all {count} to answer 200 within a minute"
    )


def _throttled(response, who, limit, *, retry_after=True):
    """``response`` is the 429 of a caller over ``limit``; its Retry-After in seconds (when
    ``retry_after``: the header is throttle-limits' business, the other checks count only)."""
    where = f"{response.request_line} as {who}, request {limit + 1} within a minute,"
    assert response.status == 429, f"{where} answered {response.status}; expected 429 (the rate is {limit} a minute)"
    body = response.json()
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    assert code == "throttled", f"{where} answered 429 with {str(body)[:120]}; expected the error body with the code 'throttled'"
    if not retry_after:
        return None
    retry = response.headers.get("retry-after", "")
    assert retry.strip().isdigit() and 0 < int(retry) <= 60, (
        f"{where} answered 429 with Retry-After: {retry!r}; expected the whole seconds to wait (1 to 60)"
    )
    return int(retry)


# Anonymous callers, Retry-After, the health endpoint (throttle-limits) ------------------------


def test_anonymous_callers_get_20_requests_a_minute(api, clock):
    _allowed(api, 20, "an anonymous caller")
    retry = _throttled(api.get(CHEAP), "an anonymous caller", 20)
    clock.advance(retry - 1)
    still = api.get(CHEAP)
    assert still.status == 429, f"{still.request_line} {retry - 1} seconds later (Retry-After said {retry}) answered {still.status}; expected 429 still"
    clock.advance(1)
    again = api.get(CHEAP)
    assert again.status == 200, f"{again.request_line} {retry} seconds after a 429 with Retry-After: {retry} answered {again.status}; expected 200"


def test_the_health_endpoint_is_never_throttled(api, clock):
    got = _statuses(api, 30, HEALTH)
    assert set(got) == {200}, f"GET {HEALTH} 30 times within a minute answered {sorted(set(got))}; expected 200 every time: monitors must never be throttled (throttle_classes = [])"
    _allowed(api, 20, "an anonymous caller")
    after = api.get(HEALTH)
    assert after.status == 200, f"GET {HEALTH} after an anonymous caller used up its rate answered {after.status}; expected 200"


# Per role, per user (throttle-roles) ----------------------------------------------------------


def test_readers_get_60_a_minute(api, data, clock):
    api.authenticate(data.user(role="reader"))
    _allowed(api, 60, "a reader")
    _throttled(api.get(CHEAP), "a reader", 60, retry_after=False)


def test_authors_editors_and_admins_get_120_a_minute(api, data, clock):
    for role in ("author", "editor", "admin"):
        api.authenticate(data.user(role=role))
        _allowed(api, 120, f"an {role}" if role[0] in "ae" else f"a {role}")
        _throttled(api.get(CHEAP), f"an {role}", 120, retry_after=False)


def test_each_user_has_a_bucket_of_their_own(api, data, clock):
    first, second = data.user(role="reader"), data.user(role="reader")
    api.authenticate(first)
    _allowed(api, 60, "a reader")
    _throttled(api.get(CHEAP), "a reader", 60, retry_after=False)
    api.authenticate(second)
    other = api.get(CHEAP)
    assert other.status == 200, f"{other.request_line} as a second reader answered {other.status} after the first used up their rate; expected 200: count requests per user (the user's id), not per IP address"
    api.authenticate(None)
    anonymous = api.get(CHEAP)
    assert anonymous.status == 200, f"{anonymous.request_line} as an anonymous caller answered {anonymous.status} after a reader used up their rate; expected 200"
