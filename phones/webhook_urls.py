"""The webhook URLs we give the provider for a number: absolute, from PUBLIC_BASE_URL."""
from __future__ import annotations

from django.conf import settings

from phones.models import PhoneNumber
from telephony.providers.base import Webhooks


def webhooks_for(number: PhoneNumber) -> Webhooks:
    base = f"{settings.PUBLIC_BASE_URL}/connect/webhook/twilio"
    voice = "ivr-menu" if number.routing_mode == PhoneNumber.RoutingMode.IVR else "voice"
    return Webhooks(
        voice_url=f"{base}/{voice}",
        sms_url=f"{base}/sms",
        status_callback=f"{base}/status",
    )
