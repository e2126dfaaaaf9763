"""The one interface every phone provider implements, and its value types.

Services talk to `PhoneProvider` only. Each instance is built for one
ProviderConnection with that connection's credentials: there is no global client.
"""
from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from core.errors import DomainError

if TYPE_CHECKING:
    from rest_framework.serializers import Serializer

T = TypeVar("T")

# Our own codes for failures that never produced a provider's answer (every provider).
TIMEOUT = "timeout"
CONNECTION_FAILED = "connection_failed"
BAD_RESPONSE = "bad_response"
# The destination (a tenant-chosen base URL) is not one we connect to (core.outbound); nothing was sent.
DESTINATION_REFUSED = "destination_refused"


class ProviderError(Exception):
    """A provider said no, or could not be reached.

    `permanent` errors (the number is unavailable, invalid, bad credentials) will
    fail again the same way and are never retried; the others (5xx, timeouts,
    rate limits) may succeed on retry. `unavailable` marks the provider as down
    (503) rather than misbehaving (502). `outcome_unknown` marks a request that
    may have taken effect (a timeout after sending a POST): never repeat it
    blindly, look the result up.
    """

    def __init__(self, message: str, *, code: str | int | None = None, permanent: bool = False,
                 provider: str = "", status: int | None = None, unavailable: bool = False,
                 outcome_unknown: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.permanent = permanent
        self.provider = provider
        self.status = status
        self.unavailable = unavailable
        self.outcome_unknown = outcome_unknown

    def as_domain_error(self) -> DomainError:
        """A provider refusal is the caller's problem (422); a provider fault is ours (502/503)."""
        if self.permanent:
            return DomainError(self.message, code="provider_refused", status_code=422,
                               provider=self.provider, providerCode=self.code)
        return DomainError(f"The phone provider is not answering properly: {self.message}",
                           code="provider_unavailable", status_code=503 if self.unavailable else 502,
                           provider=self.provider, providerCode=self.code)

    def __repr__(self) -> str:
        return (f"ProviderError({self.message!r}, code={self.code!r}, permanent={self.permanent}, "
                f"provider={self.provider!r})")


def unless_gone(call: Callable[[], T], default: T | None = None) -> T | None:
    """`call()`, or `default` when the provider answers 404: nothing there (an empty search, a
    number not owned, a number already released)."""
    try:
        return call()
    except ProviderError as exc:
        if exc.status == 404:
            return default
        raise


@dataclass(frozen=True)
class Capabilities:
    voice: bool = False
    sms: bool = False
    mms: bool = False

    def as_dict(self) -> dict[str, bool]:
        return {"voice": self.voice, "sms": self.sms, "mms": self.mms}


@dataclass(frozen=True)
class SearchCriteria:
    country: str = "US"
    number_type: str = "local"
    area_code: str | None = None
    region: str | None = None
    contains: str | None = None
    sms_enabled: bool | None = None
    voice_enabled: bool | None = None
    mms_enabled: bool | None = None
    limit: int = 30


@dataclass(frozen=True)
class AvailableNumber:
    e164: str
    friendly_name: str
    country: str
    locality: str = ""
    region: str = ""
    postal_code: str = ""
    capabilities: Capabilities = field(default_factory=Capabilities)


@dataclass(frozen=True)
class Webhooks:
    """The URLs a number should send its traffic to (absolute, built from PUBLIC_BASE_URL)."""

    voice_url: str = ""
    voice_method: str = "POST"
    voice_fallback_url: str = ""
    sms_url: str = ""
    sms_method: str = "POST"
    status_callback: str = ""
    status_callback_method: str = "POST"

    def as_dict(self) -> dict[str, str]:
        return {
            "voiceUrl": self.voice_url,
            "voiceMethod": self.voice_method,
            "voiceFallbackUrl": self.voice_fallback_url,
            "smsUrl": self.sms_url,
            "smsMethod": self.sms_method,
            "statusCallback": self.status_callback,
            "statusCallbackMethod": self.status_callback_method,
        }


@dataclass(frozen=True)
class ProvisionedNumber:
    """A number the provider account owns, as the provider sees it now."""

    sid: str
    e164: str
    friendly_name: str = ""
    capabilities: Capabilities = field(default_factory=Capabilities)
    voice_url: str = ""
    voice_method: str = ""
    voice_fallback_url: str = ""
    sms_url: str = ""
    sms_method: str = ""
    status_callback: str = ""
    status_callback_method: str = ""
    voice_application_sid: str = ""
    sms_application_sid: str = ""
    trunk_sid: str = ""


@dataclass(frozen=True)
class OwnedPage:
    numbers: list[ProvisionedNumber]
    next_page: str | None = None


@dataclass(frozen=True)
class A2PCampaign:
    """A US A2P 10DLC campaign registered on a messaging service. `status` is Twilio's
    campaign_status: VERIFIED, IN_PROGRESS, PENDING, FAILED …"""

    sid: str
    status: str
    use_case: str = ""


@dataclass(frozen=True)
class MessagingService:
    """A messaging service (sender pool) with the numbers in it and its A2P campaigns.

    While a number is in a service, the service's inbound settings take its SMS, unless the
    service defers to the number's own webhook (`use_inbound_webhook_on_number`).
    """

    sid: str
    friendly_name: str = ""
    use_inbound_webhook_on_number: bool = False
    numbers: tuple[str, ...] = ()
    campaigns: tuple[A2PCampaign, ...] = ()


@dataclass(frozen=True)
class AccountInfo:
    account_id: str
    friendly_name: str = ""
    status: str = ""


@dataclass(frozen=True)
class SentMessage:
    sid: str
    status: str
    to: str
    from_: str = ""
    segments: int = 1


@dataclass(frozen=True)
class PlacedCall:
    sid: str
    status: str
    to: str
    from_: str = ""


class PhoneProvider(abc.ABC):
    """What the platform needs from a phone provider."""

    name: str = ""

    @staticmethod
    def _check_sender(from_: str | None, messaging_service_sid: str | None) -> None:
        if not (from_ or messaging_service_sid):
            raise ValueError("send_sms needs from_ or messaging_service_sid")

    @abc.abstractmethod
    def validate_credentials(self) -> AccountInfo:
        """Prove the credentials work (raises a permanent ProviderError when they don't)."""

    @abc.abstractmethod
    def search_available(self, criteria: SearchCriteria) -> list[AvailableNumber]:
        ...

    @abc.abstractmethod
    def purchase(self, e164: str, webhooks: Webhooks, *, friendly_name: str = "") -> ProvisionedNumber:
        ...

    @abc.abstractmethod
    def find_owned(self, e164: str) -> ProvisionedNumber | None:
        """The number if this account owns it, else None."""

    @abc.abstractmethod
    def list_owned(self, page: str | None = None, page_size: int = 1000) -> OwnedPage:
        """One page of the account's numbers; pass `next_page` back for the next."""

    @abc.abstractmethod
    def list_messaging_services(self) -> list[MessagingService]:
        """Every messaging service of the account with its numbers (E.164) and A2P campaigns,
        read with paged lists: a few requests per service, never one per number."""

    @abc.abstractmethod
    def configure_webhooks(self, sid: str, webhooks: Webhooks, *, friendly_name: str | None = None
                           ) -> ProvisionedNumber:
        ...

    @abc.abstractmethod
    def release(self, sid: str) -> None:
        """Give the number back. Releasing a number that is already gone is not an error."""

    @abc.abstractmethod
    def send_sms(self, *, to: str, body: str, from_: str | None = None,
                 messaging_service_sid: str | None = None, media_urls: list[str] | None = None,
                 status_callback: str | None = None) -> SentMessage:
        ...

    @abc.abstractmethod
    def make_call(self, *, to: str, from_: str, url: str, status_callback: str | None = None) -> PlacedCall:
        ...

    def set_call_recording(self, call_sid: str, status: str) -> None:
        """Pause (`paused`), resume (`in-progress`) or stop (`stopped`) a live call's recording.

        Not every provider can: those that cannot say so with a permanent error.
        """
        raise ProviderError(f"{self.name or type(self).__name__} cannot pause or resume a call's recording",
                            code="unsupported", permanent=True, provider=self.name)

    def update_call(self, call_sid: str, *, twiml: str | None = None, hangup: bool = False) -> None:
        """A live call runs new markup now (`twiml`: the AI gateway's transfer or fallback; a media
        stream it was running ends), or ends (`hangup`). Not every provider can: those that cannot
        say so with a permanent error."""
        raise ProviderError(f"{self.name or type(self).__name__} cannot redirect or end a live call",
                            code="unsupported", permanent=True, provider=self.name)

    @abc.abstractmethod
    def validate_webhook(self, request: Any, url: str) -> bool:
        """True when the inbound webhook request is signed by this connection."""


PHONE = "phone"
AI = "ai"


@dataclass(frozen=True)
class TextTurn:
    """One message of a conversation an AI answers: `role` is "user" (the person texting) or
    "assistant" (what was sent to them)."""

    role: str
    text: str


@dataclass(frozen=True)
class AIService:
    """What an AI connection does besides the realtime voice session (the media gateway's part)."""

    # Prove the credentials work (a permanent ProviderError when they don't); saves nothing.
    check: Callable[[dict, dict], AccountInfo]
    # The reply to a text conversation: (credentials, public config, *, instructions, history) → text.
    text_reply: Callable[..., str]


def not_a_phone_provider(credentials: dict, public_config: dict) -> PhoneProvider:
    raise DomainError("This is an AI connection, not a phone provider: numbers cannot be searched, bought or "
                      "used through it", code="not_a_phone_connection", status_code=400)


@dataclass(frozen=True)
class ProviderKind:
    """A connection type, as providers.registry knows it: how to build its provider from a
    connection's credentials and public configuration, and what the API accepts for them.

    An AI connection (category AI: openai-realtime, sandbox-ai) has no phone provider (`build`
    refuses with a 400) and no webhooks; its `ai` says how it is checked and answers texts."""

    type: str  # the connection's `type`, e.g. "plivo-provider"
    label: str
    # The URL family its webhooks come in on: /connect/webhook/<webhooks>/<kind>.
    webhooks: str
    build: Callable[[dict, dict], PhoneProvider]
    credentials: type[Serializer]
    public_config: type[Serializer]
    # Its numbers' URLs live on an application/profile all of a connection's numbers share.
    shared_webhooks: bool = False
    # Credentials to make when a connection of this type is created without any (the sandbox's new account).
    new_credentials: Callable[[str], dict] | None = None
    category: str = PHONE
    ai: AIService | None = None

    @property
    def is_ai(self) -> bool:
        return self.category == AI

    def secret_destinations(self) -> tuple[str, ...]:
        """The public-config fields that decide where the credentials are sent: every URL field
        (a base URL such as Twilio's `apiBaseUrl`). Changing one needs the credentials again."""
        from rest_framework.serializers import URLField

        return tuple(name for name, field_ in self.public_config().fields.items() if isinstance(field_, URLField))
