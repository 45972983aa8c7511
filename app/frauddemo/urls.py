"""URL routes; /healthz is answered by frauddemo.health.HealthCheckMiddleware before routing.

The error handlers answer JSON on API paths (transactions/api_errors.py).
"""
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("transactions.urls")),
]

handler400 = "transactions.api_errors.bad_request"
handler403 = "transactions.api_errors.permission_denied"
handler404 = "transactions.api_errors.page_not_found"
handler500 = "transactions.api_errors.server_error"
