"""Every mount of the project: the API by feature, the providers' webhooks, the sandbox, the admin."""
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from core.health import healthz
from orgs.auth import TokenObtainView, TokenRefreshOnceView
from sandbox.simulate import simulate_view

urlpatterns = [
    # First: the providers' webhooks are most of the traffic, and each mount tried before a
    # request's own costs it a regular-expression match (no other mount starts with connect/).
    path("connect/webhook/", include("webhooks.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    # simplejwt's views, throttled; a refresh token is used once, even by concurrent requests.
    path("api/auth/token", TokenObtainView.as_view(), name="token-obtain"),
    path("api/auth/token/refresh", TokenRefreshOnceView.as_view(), name="token-refresh"),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("", include("compat.urls")),  # the documents' own paths, before the features' (compat/urls.py)
    path("", include("orgs.urls")),
    path("", include("phones.numbers.urls")),
    path("", include("phones.trunks.urls")),
    path("", include("phones.calls.urls")),
    path("", include("phones.messaging.urls")),
    path("", include("phones.verify.urls")),
    path("", include("phones.recordings.urls")),
    path("", include("phones.broadcasts.urls")),
    path("", include("phones.agents.urls")),
    path("", include("billing.urls")),
    # The staff page that plays a caller against our webhooks (the sandbox's other urls are the Twilio API).
    path("sandbox/simulate", simulate_view, name="sandbox-simulate"),
    path("sandbox/", include("sandbox.urls")),
]

# Unknown paths (and trailing-slash variants) and requests Django refuses answer the API's JSON
# error shape; the admin's and the sandbox's pages stay Django's HTML (core.errors).
handler404 = "core.errors.not_found_view"
handler400 = "core.errors.bad_request_view"
