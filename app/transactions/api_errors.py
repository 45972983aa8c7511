"""JSON errors for the API: Django's error handlers and CSRF failure view, answering JSON under /api/.

Django builds these responses itself (an unknown path, a bad Host header, a body above
DATA_UPLOAD_MAX_MEMORY_SIZE, a CSRF failure, an uncaught exception); frauddemo/urls.py and
CSRF_FAILURE_VIEW point Django at the handlers below, which answer JSON on API paths and leave the page
and the admin with Django's own pages. With DJANGO_DEBUG=true Django shows its debug pages instead (the
stack never sets it).
"""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import csrf, defaults

API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def json_error(message: str, status: int, **extra: object) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def _rejection(exception: Exception | None) -> tuple[int, str]:
    """Status and message for a request Django refused before any view code ran or while it read input."""
    if isinstance(exception, RequestDataTooBig):
        return 413, f"request body too large: at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes"
    if isinstance(exception, DisallowedHost):
        # The offending value is not echoed: it is the attacker's text.
        return 400, "the Host header names no host this site serves"
    if isinstance(exception, TooManyFieldsSent):
        return 400, f"too many query or form parameters: at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}"
    return 400, "bad request"


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400: also Django's SuspiciousOperation family (oversized body as 413, bad Host header)."""
    if not is_api(request):
        return defaults.bad_request(request, exception)
    status, message = _rejection(exception)
    return json_error(f"{message}; nothing was written", status)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not is_api(request):
        return defaults.permission_denied(request, exception)
    return json_error("permission denied; nothing was written", 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not is_api(request):
        return defaults.page_not_found(request, exception)
    return json_error(f"no API endpoint at {request.path_info}", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    if not is_api(request):
        return defaults.server_error(request)
    return json_error("internal server error", 500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: the API's callers read JSON, not Django's HTML page."""
    if not is_api(request):
        return csrf.csrf_failure(request, reason)
    return json_error(f"CSRF check failed: {reason}; send the X-CSRFToken header from the page", 403)
