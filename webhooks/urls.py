"""Included by config.urls at `connect/webhook/`."""
from django.urls import path

from webhooks import plivo, telnyx, views

urlpatterns = [
    path("twilio/<slug:kind>", views.twilio_webhook, name="twilio-webhook"),
    path("plivo/<slug:kind>", plivo.plivo_webhook, name="plivo-webhook"),
    path("telnyx/<slug:kind>", telnyx.telnyx_webhook, name="telnyx-webhook"),
    path("ping", views.ping, name="webhook-ping"),
]
