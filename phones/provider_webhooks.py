"""The webhook URLs we give a provider: absolute, from PUBLIC_BASE_URL, on that provider's path."""
from __future__ import annotations

from django.conf import settings

from phones.models import PhoneNumber
from providers.base import Webhooks
from providers.registry import kind_for, provider_for


def webhook_url(kind: str, connection_type: str | None = None) -> str:
    """Where the provider of `connection_type` posts `kind` (voice, ivr-menu, sms, status, …); Twilio's
    path when no type is given."""
    family = kind_for(connection_type).webhooks if connection_type else "twilio"
    return f"{settings.PUBLIC_BASE_URL}/connect/webhook/{family}/{kind}"


def webhooks_for(number: PhoneNumber) -> Webhooks:
    kind = number.connection.type
    if kind_for(kind).shared_webhooks:
        # Plivo and Telnyx keep the URLs on an application/profile shared by all of a
        # connection's numbers, so their voice URL cannot depend on one number's routing
        # mode: the voice webhook looks the mode up when the call comes in.
        voice = "voice"
    else:
        voice = "ivr-menu" if number.routing_mode == PhoneNumber.RoutingMode.IVR else "voice"
    return Webhooks(voice_url=webhook_url(voice, kind), sms_url=webhook_url("sms", kind),
                    status_callback=webhook_url("status", kind))


def webhooks_push(number: PhoneNumber, *, friendly_name: str | None = None) -> None:
    hooks = webhooks_for(number)
    provider_for(number.connection).configure_webhooks(number.provider_sid, hooks, friendly_name=friendly_name)
    number.webhooks = hooks.as_dict()
