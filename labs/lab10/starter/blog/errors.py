"""The blog's domain errors: a business rule said no.

Services raise these; they know nothing about HTTP. The API's one exception handler
(`api/errors.py`) turns every one of them into the documented error body with status 400, using
`code` for clients to branch on, `message` for people, and `fields` to name the input concerned.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every rule the blog enforces in its services.

    `code` is stable (clients may compare it); `message` may change wording at any time;
    `fields` maps an input field to what is wrong with it, when the error is about one.
    """

    code = "domain_error"
    # The HTTP status the API answers with: 400, the request broke a rule, unless a subclass
    # says otherwise (a move the workflow does not have is a 409 Conflict with the post's state).
    status_code = 400

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class BannedTermUsed(DomainError):
    """Text contains a term of the content policy's banned list (`BannedTerm`, seeded in lab02)."""

    code = "banned_term"


class SlugTaken(DomainError):
    """The author already has a post with this slug (the database's unique constraint, asked
    first so the client gets a sentence instead of an integrity error)."""

    code = "slug_taken"


class InvalidTransition(DomainError):
    """The editorial workflow has no such move from the post's current status (draft to
    published, say). Answered 409: the request conflicts with the state the post is in."""

    code = "invalid_transition"
    status_code = 409
