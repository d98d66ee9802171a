"""One request rate per kind of caller, counted in Django's cache.

| caller | scope | rate (settings) | counted per |
|---|---|---|---|
| anonymous | `anon` | 20/minute | IP address |
| reader | `reader` | 60/minute | user |
| author, editor, admin | `author` | 120/minute | user |

Editors and admins share the authors' rate: they write and review, and nothing they do needs
more. A user with a role this table does not know gets the readers' rate, the least a signed-in
user has. The rates themselves are in `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`.

Over the rate, DRF answers 429 `throttled` with a `Retry-After` header: the whole seconds until
the oldest request counted leaves the window. Counters live in the `default` cache, so every
process of a deployment must share one (Redis in production, `CACHE_URL`); with a cache per
process each process would allow the full rate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.throttling import SimpleRateThrottle

if TYPE_CHECKING:  # DRF imports this module while rest_framework.views is being imported
    from rest_framework.request import Request
    from rest_framework.views import APIView

ROLE_SCOPES = {"reader": "reader", "author": "author", "editor": "author", "admin": "author"}


class RoleRateThrottle(SimpleRateThrottle):
    """The scope, and with it the rate, follows who is calling (see the module docstring)."""

    # SimpleRateThrottle reads the rate of this scope when it is made, before any request is
    # known; allow_request() reads it again once the caller is.
    scope = "anon"

    @staticmethod
    def scope_for(user: Any) -> str:
        """`anon`, or the scope of the user's role (`reader` for a role ROLE_SCOPES lacks)."""
        if not (user and user.is_authenticated):
            return "anon"
        return ROLE_SCOPES.get(getattr(user, "role", ""), "reader")

    def allow_request(self, request: Request, view: APIView) -> bool:
        self.scope = self.scope_for(request.user)
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: APIView) -> str:
        if request.user and request.user.is_authenticated:
            ident = str(request.user.pk)
        else:
            ident = self.get_ident(request)  # the client's IP (mind NUM_PROXIES behind a proxy)
        return self.cache_format % {"scope": self.scope, "ident": ident}
