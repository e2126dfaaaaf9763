"""The connection types we know, and the provider each builds with a connection's own credentials.

Adding a provider: a folder beside twilio/ with its client and a `kind.py` whose KIND describes
it, plus one line below. (The sandbox registers itself from its app: it lives above providers/.)
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from providers.base import AI, PHONE, AIService, PhoneProvider, ProviderKind
from providers.openai.kind import KIND as OPENAI_REALTIME
from providers.plivo.kind import KIND as PLIVO
from providers.telnyx.kind import KIND as TELNYX
from providers.twilio.kind import KIND as TWILIO

if TYPE_CHECKING:
    from orgs.models import ProviderConnection

KINDS: dict[str, ProviderKind] = {}


def register(kind: ProviderKind) -> ProviderKind:
    KINDS[kind.type] = kind
    return kind


for _kind in (TWILIO, PLIVO, TELNYX, OPENAI_REALTIME):
    register(_kind)


def kind_for(type_: str) -> ProviderKind:
    try:
        return KINDS[type_]
    except KeyError:
        raise ValueError(f"unknown provider type {type_!r}") from None


def types_of(category: str) -> tuple[str, ...]:
    """The connection types of one category: PHONE (numbers come through them) or AI (agents use them)."""
    return tuple(kind.type for kind in KINDS.values() if kind.category == category)


def phone_types() -> tuple[str, ...]:
    return types_of(PHONE)


def ai_types() -> tuple[str, ...]:
    return types_of(AI)


def ai_service(type_: str) -> AIService:
    """What an AI connection type does (check, text replies); ValueError for a phone type."""
    kind = kind_for(type_)
    if kind.ai is None:
        raise ValueError(f"{type_!r} is not an AI connection type")
    return kind.ai


def build_provider(type_: str, credentials: dict, public_config: dict | None = None) -> PhoneProvider:
    return kind_for(type_).build(credentials, public_config or {})


def provider_for(connection: ProviderConnection) -> PhoneProvider:
    return build_provider(connection.type, connection.credentials, connection.public_config)


def types_with_webhooks(family: str) -> tuple[str, ...]:
    """The connection types whose webhooks come in on /connect/webhook/<family>/."""
    return tuple(kind.type for kind in KINDS.values() if family and kind.webhooks == family)
