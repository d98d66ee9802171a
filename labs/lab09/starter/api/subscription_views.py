"""Subscriptions: a signed-in user follows authors, and gets a mail for each post they publish.

- GET /api/subscriptions/: 200, the caller's subscriptions, oldest first.
- POST /api/subscriptions/ {"author": "<username>"}: 201 with a Location; 400 not_an_author
  (no such author, or the caller), 409 already_subscribed.
- DELETE /api/subscriptions/<id>/: 204 for the subscriber; 404 for anyone else, as for an id
  that does not exist (the answer reveals nothing).

Errors are the API's one error body (api/errors.py); anonymous callers get 401.
"""

from __future__ import annotations

from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class SubscriptionListApi(APIView):
    """GET: the caller's subscriptions. POST {"author": username}: follow that author."""

    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        # TODO(lab09): the caller's subscriptions (labs/lab09/README.md, step 2).
        return Response([])

    def post(self, request: Request) -> Response:
        # TODO(lab09): follow the author named in the body (labs/lab09/README.md, step 2).
        return Response(status=501)


class SubscriptionDetailApi(APIView):
    """DELETE: stop following. Only the subscriber finds the subscription; for others it is 404."""

    permission_classes = [IsAuthenticated]

    def delete(self, request: Request, subscription_id: int) -> Response:
        # TODO(lab09): delete the caller's subscription (labs/lab09/README.md, step 2).
        return Response(status=501)
