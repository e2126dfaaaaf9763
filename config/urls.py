from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from orgs import api
from core.health import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/auth/token", TokenObtainPairView.as_view(), name="token-obtain"),
    path("api/auth/token/refresh", TokenRefreshView.as_view(), name="token-refresh"),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("integrations", api.ConnectionListView.as_view(), name="integration-list"),
    path("integrations/<str:public_id>", api.ConnectionDetailView.as_view(), name="integration-detail"),
    path("", include("phones.numbers.urls")),
    path("", include("phones.calls.urls")),
    path("", include("phones.verify.urls")),
    path("", include("billing.urls")),
    path("sandbox/", include("sandbox.urls")),
    path("connect/webhook/", include("webhooks.urls")),
    path("", include("phones.messaging.urls")),
]
