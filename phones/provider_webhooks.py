"""The webhook URLs we give a provider: absolute, from PUBLIC_BASE_URL, on that provider's path."""
from __future__ import annotations

from django.conf import settings

from phones.models import PhoneNumber
from orgs.models import ProviderConnection
from providers.base import Webhooks

# Everything else (Twilio, the sandbox, Twilio-compatible APIs) posts Twilio's webhooks.
PROVIDER_PATHS = {ProviderConnection.Type.PLIVO: "plivo", ProviderConnection.Type.TELNYX: "telnyx"}


def webhook_url(kind: str, connection_type: str | None = None) -> str:
    """Where the provider of `connection_type` posts `kind` (voice, ivr-menu, sms, status, …)."""
    return f"{settings.PUBLIC_BASE_URL}/connect/webhook/{PROVIDER_PATHS.get(connection_type, 'twilio')}/{kind}"


def webhooks_for(number: PhoneNumber) -> Webhooks:
    kind = number.connection.type
    if kind in PROVIDER_PATHS:
        # Plivo and Telnyx keep the URLs on an application/profile shared by all of a
        # connection's numbers, so their voice URL cannot depend on one number's routing
        # mode: the voice webhook looks the mode up when the call comes in.
        voice = "voice"
    else:
        voice = "ivr-menu" if number.routing_mode == PhoneNumber.RoutingMode.IVR else "voice"
    return Webhooks(voice_url=webhook_url(voice, kind), sms_url=webhook_url("sms", kind),
                    status_callback=webhook_url("status", kind))
