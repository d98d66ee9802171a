"""HTTP endpoints of the api app. Views stay thin: they call a selector and shape the response."""

from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .health import health_report


class HealthCheckApi(APIView):
    """GET: 200 with the health report when every check passes, 503 with it when one fails.

    Open to anyone, because load balancers and uptime monitors do not log in; the report says
    only "ok" or "error" per check, so it reveals nothing worth protecting.
    """

    authentication_classes = []
    # Monitors are never throttled (a refused probe reports an outage that is not there), and
    # ask "are you up?" in no API version.
    throttle_classes = []
    versioning_class = None
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        report = health_report()
        if report["status"] == "ok":
            return Response(report, status=status.HTTP_200_OK)
        return Response(report, status=status.HTTP_503_SERVICE_UNAVAILABLE)
