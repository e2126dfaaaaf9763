"""The webhook URLs we give the provider for a number: absolute, from PUBLIC_BASE_URL."""
from __future__ import annotations

from django.conf import settings

from phones.models import PhoneNumber
from telephony.models import ProviderConnection
from telephony.providers.base import Webhooks

# Plivo and Telnyx keep the URLs on an application/profile shared by all of a connection's
# numbers, so their voice URL cannot depend on one number's routing mode: the voice webhook
# looks the mode up when the call comes in.
SHARED_URL_PATHS = {ProviderConnection.Type.PLIVO: "plivo", ProviderConnection.Type.TELNYX: "telnyx"}


def webhooks_for(number: PhoneNumber) -> Webhooks:
    shared = SHARED_URL_PATHS.get(number.connection.type)
    if shared:
        base = f"{settings.PUBLIC_BASE_URL}/connect/webhook/{shared}"
        return Webhooks(voice_url=f"{base}/voice", sms_url=f"{base}/sms", status_callback=f"{base}/status")
    base = f"{settings.PUBLIC_BASE_URL}/connect/webhook/twilio"
    voice = "ivr-menu" if number.routing_mode == PhoneNumber.RoutingMode.IVR else "voice"
    return Webhooks(
        voice_url=f"{base}/{voice}",
        sms_url=f"{base}/sms",
        status_callback=f"{base}/status",
    )
