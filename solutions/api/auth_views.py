# FILE LAB05
"""HTTP endpoints for accounts and JSON Web Tokens, mounted under /api/auth/ (api/auth_urls.py).

Obtaining and refreshing tokens is Simple JWT's work: its views check the credentials, sign the
tokens with the project's SIGNING_KEY (SECRET_KEY) and apply SIMPLE_JWT's rotation settings, and
they are the only endpoints whose bodies hold a token. Registration, logout and "me" follow the
project's pattern: input serializer, service, output serializer. A token that is expired,
tampered with or blacklisted is refused by Simple JWT with 401 `token_not_valid`, in the API's
one error body (api/errors.py).
"""

from __future__ import annotations

# BEGIN LAB10
import logging
from typing import Any

# END LAB10
# BEGIN LAB05
from django.urls import reverse
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts.services import user_register

from .auth_serializers import RefreshInputSerializer, RegisterInputSerializer, UserOutputSerializer

# STUB LAB05
# from rest_framework import status
# from rest_framework.permissions import AllowAny, IsAuthenticated
# from rest_framework.request import Request
# from rest_framework.response import Response
# from rest_framework.views import APIView
# from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView
#
# from .auth_serializers import RefreshInputSerializer
#
# END LAB05
# BEGIN LAB10
logger = logging.getLogger(__name__)

# END LAB10

class TokenObtainApi(TokenObtainPairView):
    """POST {username, password}: 200 {access, refresh}, or 401 `no_active_account`.

    The tokens are made by SIMPLE_JWT["TOKEN_OBTAIN_SERIALIZER"], which adds the role claim.
    """
    # BEGIN LAB10

    def handle_exception(self, exc: Exception) -> Response:
        response: Response = super().handle_exception(exc)
        if response.status_code == status.HTTP_401_UNAUTHORIZED:
            # Who tried, never with what: the password (and any token) stays out of the logs.
            data: Any = self.request.data
            username = data.get("username") if hasattr(data, "get") else None
            logger.warning("login refused", extra={"username": str(username)[:150]})
        return response
    # END LAB10


class TokenRefreshApi(TokenRefreshView):
    """POST {refresh}: 200 {access, refresh}. With ROTATE_REFRESH_TOKENS the refresh token sent
    is replaced (and, with BLACKLIST_AFTER_ROTATION, refused from now on)."""


class RegisterApi(APIView):
    """POST {username, password, email?}: 201 with the new reader's account; never a token."""

    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        # BEGIN LAB05
        data = RegisterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_register(**data.validated_data)
        return Response(
            UserOutputSerializer(user).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": reverse("auth:me")},
        )
        # STUB LAB05
        # # TODO(lab05): validate with RegisterInputSerializer, create the account with
        # # user_register() and answer 201 with UserOutputSerializer (labs/lab05/README.md,
        # # step 3).
        # return Response(status=status.HTTP_501_NOT_IMPLEMENTED)
        # END LAB05


class LogoutApi(APIView):
    """POST {refresh}: 204, and that refresh token is refused from now on.

    The refresh token is the credential here, as it is at /api/auth/token/refresh/: whoever
    holds it may end it. The access tokens already issued stay valid until they expire, which
    is why ACCESS_TOKEN_LIFETIME is short.
    """

    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        data = RefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # BEGIN LAB05
        try:
            RefreshToken(data.validated_data["refresh"]).blacklist()
        except TokenError as exc:  # expired, tampered with, or already blacklisted
            raise InvalidToken(str(exc)) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)
        # STUB LAB05
        # # TODO(lab05): blacklist the refresh token (Simple JWT's RefreshToken.blacklist());
        # # refuse an invalid one with InvalidToken (labs/lab05/README.md, step 4).
        # return Response(status=status.HTTP_501_NOT_IMPLEMENTED)
        # END LAB05


class MeApi(APIView):
    """GET: the requesting user's own account (200), or 401 `not_authenticated`."""

    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        # BEGIN LAB05
        return Response(UserOutputSerializer(request.user).data)
        # STUB LAB05
        # # TODO(lab05): answer the requesting user's account with UserOutputSerializer
        # # (labs/lab05/README.md, step 5).
        # return Response(status=status.HTTP_501_NOT_IMPLEMENTED)
        # END LAB05
