"""GET /healthz: one trivial query on the configured database."""
import logging

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
_PROBE_SQL = {"oracle": "SELECT 1 FROM DUAL"}


def healthz(request: HttpRequest) -> JsonResponse:
    if request.method not in ("GET", "HEAD"):
        response = JsonResponse({"error": f"method {request.method} not allowed; use GET"}, status=405)
        response["Allow"] = "GET, HEAD"
        return response
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute(_PROBE_SQL.get(connection.vendor, "SELECT 1"))
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; only its class is reported
        logger.warning("health check failed: %s", type(exc).__name__)
        return JsonResponse({"status": "error", "error": type(exc).__name__}, status=503)
    return JsonResponse({"status": "ok"})


class HealthCheckMiddleware:
    """Answers /healthz ahead of host validation: kubelet and ALB probes send the pod IP as Host."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == HEALTH_PATH:
            return healthz(request)
        return self.get_response(request)
