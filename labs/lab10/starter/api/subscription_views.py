"""Subscriptions: a signed-in user follows authors, and gets a mail for each post they publish.

- GET /api/subscriptions/: 200, the caller's subscriptions, oldest first.
- POST /api/subscriptions/ {"author": "<username>"}: 201 with a Location; 400 not_an_author
  (no such author, or the caller), 409 already_subscribed.
- DELETE /api/subscriptions/<id>/: 204 for the subscriber; 404 for anyone else, as for an id
  that does not exist (the answer reveals nothing).

Errors are the API's one error body (api/errors.py); anonymous callers get 401.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from blog.subscriptions import subscription_create, subscription_delete, subscription_list

from .schema import ErrorSerializer, errors


# The contract (lab08): what the endpoints take and answer, documented in the schema.
class SubscriptionInputSerializer(serializers.Serializer):
    author = serializers.CharField(max_length=150, help_text="The author's username.")


class SubscriptionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    author = serializers.CharField(source="author.username")
    created_at = serializers.DateTimeField()


ALREADY = OpenApiResponse(
    ErrorSerializer, description="The caller follows this author already (already_subscribed)."
)
NOT_AN_AUTHOR = OpenApiResponse(
    ErrorSerializer,
    description="No author of that name, or the caller (not_an_author, fields: author).",
)
SUBSCRIPTION_ID = OpenApiParameter(
    "subscription_id",
    {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
    OpenApiParameter.PATH,
    description="The subscription's id.",
)


class SubscriptionListApi(APIView):
    """GET: the caller's subscriptions. POST {"author": username}: follow that author."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="The caller's subscriptions, oldest first",
        responses={200: SubscriptionOutputSerializer(many=True), **errors()},
    )
    def get(self, request: Request) -> Response:
        subscriptions = subscription_list(reader=request.user)
        return Response(SubscriptionOutputSerializer(subscriptions, many=True).data)

    @extend_schema(
        summary="Follow an author: a mail for each post they publish",
        request=SubscriptionInputSerializer,
        responses={201: SubscriptionOutputSerializer, 400: NOT_AN_AUTHOR, 409: ALREADY},
    )
    def post(self, request: Request) -> Response:
        data = SubscriptionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = subscription_create(
            reader=request.user, author_username=data.validated_data["author"]
        )
        location = reverse("api:subscription-detail", kwargs={"subscription_id": subscription.pk})
        return Response(
            SubscriptionOutputSerializer(subscription).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )


class SubscriptionDetailApi(APIView):
    """DELETE: stop following. Only the subscriber finds the subscription; for others it is 404."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Stop following an author",
        parameters=[SUBSCRIPTION_ID],
        responses={204: OpenApiResponse(description="No longer followed."), **errors(404)},
    )
    def delete(self, request: Request, subscription_id: int) -> Response:
        subscription = subscription_list(reader=request.user).filter(pk=subscription_id).first()
        if subscription is None:
            raise NotFound(f"You have no subscription with id {subscription_id}.")
        subscription_delete(subscription=subscription)
        return Response(status=status.HTTP_204_NO_CONTENT)
