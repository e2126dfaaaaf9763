from django.urls import path

from orgs import api

urlpatterns = [
    path("integrations", api.ConnectionListView.as_view(), name="integration-list"),
    path("integrations/<str:public_id>", api.ConnectionDetailView.as_view(), name="integration-detail"),
    path("api-keys", api.APIKeyListView.as_view(), name="api-key-list"),
    path("api-keys/<str:public_id>", api.APIKeyDetailView.as_view(), name="api-key-detail"),
]
