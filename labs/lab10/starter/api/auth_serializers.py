"""The authentication endpoints' contracts: registration, the token pair, logout, "me".

A password only ever comes in, never goes out: no output serializer has a password field, and
a token is answered only by the token endpoints (Simple JWT's serializers), never by these.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.validators import UniqueValidator
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.tokens import Token

from accounts.models import User


class UserOutputSerializer(serializers.Serializer):
    """The requesting user's own account, as GET /api/auth/me/ shows it."""

    id = serializers.IntegerField()
    username = serializers.CharField()
    # An account may have no e-mail address (it is optional at registration): "" is not an
    # e-mail address, so the schema must not promise the email format.
    email = serializers.CharField(help_text="The account's e-mail address, or empty.")
    role = serializers.CharField()


class RegisterInputSerializer(serializers.Serializer):
    """A new account as a client sends it. There is no `role`: every new account is a reader."""

    username = serializers.CharField(
        max_length=150,
        validators=[
            UnicodeUsernameValidator(),
            UniqueValidator(queryset=User.objects.all(), message="That username is taken."),
        ],
    )
    email = serializers.EmailField(required=False, default="")
    password = serializers.CharField(max_length=128, trim_whitespace=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """The password must pass AUTH_PASSWORD_VALIDATORS (length, common, numeric, similar)."""
        # The similarity validator compares the password with the user's attributes, so it is
        # given the user as it would be saved.
        candidate = User(username=attrs["username"], email=attrs.get("email", ""))
        try:
            password_validation.validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from exc
        return attrs


class RefreshInputSerializer(serializers.Serializer):
    """A refresh token, as POST /api/auth/logout/ receives it."""

    refresh = serializers.CharField()


class RoleTokenObtainPairSerializer(TokenObtainPairSerializer):
    """Simple JWT's username-and-password check, with the user's role added to the tokens.

    Registered as SIMPLE_JWT["TOKEN_OBTAIN_SERIALIZER"]. The claim is copied from the refresh
    token into every access token made from it, so a refreshed access token has it too.
    """

    @classmethod
    def get_token(cls, user: Any) -> Token:
        token = super().get_token(user)
        token["role"] = user.role
        return token
