"""Included by config.urls at `connect/webhook/`."""
from django.urls import path

from webhooks import plivo, reference, telnyx, twilio

urlpatterns = [
    path("twilio/<slug:kind>", twilio.twilio_webhook, name="twilio-webhook"),
    path("plivo/<slug:kind>", plivo.plivo_webhook, name="plivo-webhook"),
    path("telnyx/<slug:kind>", telnyx.telnyx_webhook, name="telnyx-webhook"),
    path("ping", reference.ping, name="webhook-ping"),
    path("reference/sms", reference.reference_sms, name="webhook-reference-sms"),
]
