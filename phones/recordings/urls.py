"""Recordings; included at the root by config.urls (`recordings/settings` before `recordings/<id>`)."""
from django.urls import path

from phones.recordings import api

urlpatterns = [
    path("recordings", api.RecordingListView.as_view(), name="recordings"),
    path("recordings/settings", api.RecordingSettingsView.as_view(), name="recordings-settings"),
    path("recordings/<str:public_id>", api.RecordingDetailView.as_view(), name="recording"),
    path("recordings/<str:public_id>/media", api.RecordingMediaView.as_view(), name="recording-media"),
]
