"""Broadcasts; included at the root by config.urls."""
from django.urls import path

from phones.broadcasts import api

urlpatterns = [
    path("broadcasts", api.BroadcastsView.as_view(), name="broadcasts"),
    path("broadcasts/<str:public_id>", api.BroadcastDetailView.as_view(), name="broadcast"),
    path("broadcasts/<str:public_id>/pause", api.BroadcastPauseView.as_view(), name="broadcast-pause"),
    path("broadcasts/<str:public_id>/resume", api.BroadcastResumeView.as_view(), name="broadcast-resume"),
    path("broadcasts/<str:public_id>/cancel", api.BroadcastCancelView.as_view(), name="broadcast-cancel"),
    path("broadcasts/<str:public_id>/recipients", api.BroadcastRecipientsView.as_view(), name="broadcast-recipients"),
]
