"""Included by telephony.urls at `connect/webhook/`."""
from django.urls import path

from webhooks import views

urlpatterns = [
    path("twilio/<slug:kind>", views.twilio_webhook, name="twilio-webhook"),
    path("ping", views.ping, name="webhook-ping"),
]
