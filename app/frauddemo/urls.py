"""URL routes; /healthz is answered by frauddemo.health.HealthCheckMiddleware before routing."""
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("transactions.urls")),
]
