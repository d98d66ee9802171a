"""The error body, built from DRF's nested error details."""

from __future__ import annotations

from api.errors import _field_messages, error_body


def test_error_body_leaves_out_empty_fields() -> None:
    assert error_body(code="not_found", message="Gone.") == {
        "error": {"code": "not_found", "message": "Gone."}
    }


def test_nested_details_get_dotted_names() -> None:
    detail = {"title": ["Too long."], "tags": [{}, {"name": ["Required."]}]}

    assert _field_messages(detail) == {"title": ["Too long."], "tags.1.name": ["Required."]}


def test_a_bare_message_is_about_the_whole_request() -> None:
    assert _field_messages(["Nope."]) == {"non_field_errors": ["Nope."]}
