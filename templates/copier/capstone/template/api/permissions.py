"""Who may do what, object by object."""

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView


class IsOwnerOrReadOnly(BasePermission):
    """Anyone may read an object; only its owner may change or delete it.

    Contract: the object has an ``owner_id``. Combine it with a class that requires a login for
    writes (IsAuthenticatedOrReadOnly): this one only compares owners.
    """

    message = "Only the owner can change this."

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return bool(obj.owner_id == request.user.pk)
