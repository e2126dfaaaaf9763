"""The one interface every phone provider implements, and its value types.

Services talk to `PhoneProvider` only. Each instance is built for one
ProviderConnection with that connection's credentials: there is no global client.
"""
from __future__ import annotations

import abc
from collections.abc import Callable, Iterator
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
    # True: leave out every number that needs an address (Twilio's ExcludeAllAddressRequired).
    exclude_address_required: bool = False


@dataclass(frozen=True)
class AvailableNumber:
    e164: str
    friendly_name: str
    country: str
    locality: str = ""
    region: str = ""
    postal_code: str = ""
    capabilities: Capabilities = field(default_factory=Capabilities)
    # What address buying it needs: none, any (anywhere), local (in its country), foreign (outside it).
    address_requirements: str = "none"
    # New to the provider's platform.
    beta: bool = False


ADDRESS_REQUIREMENTS = ("none", "any", "local", "foreign")


@dataclass(frozen=True)
class Regulatory:
    """The end user's documents a purchase is made with, as the provider names them (Twilio: an
    Address `AD…` and a regulatory Bundle `BU…`). Empty: none given."""

    address_sid: str = ""
    bundle_sid: str = ""

    def __bool__(self) -> bool:
        return bool(self.address_sid or self.bundle_sid)


@dataclass(frozen=True)
class NumberPrice:
    """What the provider charges for a number of one type in a country: `number_type` as ours
    (local, tollFree, mobile); prices as the provider writes them (decimal strings, major units)."""

    number_type: str
    base_price: str
    current_price: str


@dataclass(frozen=True)
class CountryNumberPrices:
    """The provider's monthly number prices in one country, in `currency`. `unknown_types`: the
    provider's number types we do not sell (Twilio's national, shared cost …), named as it names them."""

    country: str
    currency: str
    prices: tuple[NumberPrice, ...]
    unknown_types: tuple[str, ...] = ()


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
class OriginationUrl:
    """Where a SIP trunk sends the calls it takes (Twilio's Origination URL), tried by priority then weight."""

    sid: str
    sip_url: str
    priority: int = 10
    weight: int = 10
    enabled: bool = True
    friendly_name: str = ""


@dataclass(frozen=True)
class SipTrunk:
    """A SIP trunk of the provider account: the numbers assigned to it send their calls to its
    origination URLs instead of our voice webhook."""

    sid: str
    friendly_name: str = ""
    domain_name: str = ""
    origination_urls: tuple[OriginationUrl, ...] = ()


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


@dataclass
class MediaStream:
    """A recording's audio as the provider answers it, not yet read: `chunks` yields it piece by
    piece (never the whole file at once) and `close()` lets the connection go. `status` is 200, or
    206 for a byte range (`content_range` says which), or 416 for a range past the end."""

    status: int
    chunks: Iterator[bytes]
    close: Callable[[], None]
    content_type: str = "audio/mpeg"
    content_length: int | None = None
    content_range: str = ""
    accept_ranges: str = ""


class PhoneProvider(abc.ABC):
    """What the platform needs from a phone provider."""

    name: str = ""
    # Buys numbers with an address and a regulatory bundle (`purchase(..., regulatory=...)`) and
    # can look an address up (`address_country`). A provider without it is never given either.
    regulatory_documents: bool = False
    # A live call's new markup is fetched from a URL (`update_call(url=...)`): the provider's API
    # takes no markup inline (Plivo's transfer). Otherwise `update_call(twiml=...)`.
    markup_by_url: bool = False

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

    def address_country(self, address_sid: str) -> str | None:
        """The ISO country of one of the account's addresses, or None when the account has no such
        address. Only for providers with `regulatory_documents`."""
        raise ProviderError(f"{self.name or type(self).__name__} takes no addresses", code="unsupported",
                            permanent=True, provider=self.name)

    def number_price_countries(self) -> list[str]:
        """The ISO codes of every country the provider prices numbers in."""
        raise ProviderError(f"{self.name or type(self).__name__} has no price list to import", code="unsupported",
                            permanent=True, provider=self.name)

    def number_prices(self, country: str) -> CountryNumberPrices | None:
        """The provider's monthly number prices in `country`, or None when it sells none there."""
        raise ProviderError(f"{self.name or type(self).__name__} has no price list to import", code="unsupported",
                            permanent=True, provider=self.name)

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

    def find_sent_sms(self, *, to: str, body: str, from_: str | None, since: Any) -> SentMessage | None:
        """A text this account sent to `to` (from `from_` when given) with `body`, created at or after
        `since` (an aware datetime): how a send whose answer was lost is resolved without sending
        again. Providers that cannot look texts up say so with a permanent error."""
        raise ProviderError(f"{self.name or type(self).__name__} cannot look up the texts it sent",
                            code="unsupported", permanent=True, provider=self.name)

    @abc.abstractmethod
    def make_call(self, *, to: str, from_: str, url: str, status_callback: str | None = None) -> PlacedCall:
        ...

    def set_call_recording(self, call_sid: str, status: str) -> None:
        """Pause (`paused`), resume (`in-progress`) or stop (`stopped`) a live call's recording.

        Not every provider can: those that cannot say so with a permanent error.
        """
        raise ProviderError(f"{self.name or type(self).__name__} cannot pause or resume a call's recording",
                            code="unsupported", permanent=True, provider=self.name)

    def _unsupported(self, what: str) -> ProviderError:
        return ProviderError(f"{self.name or type(self).__name__} connections do not support {what}",
                             code="unsupported", permanent=True, provider=self.name)

    def list_trunks(self) -> list[SipTrunk]:
        """Every SIP trunk of the account with its origination URLs (paged lists).

        Providers without SIP trunks here answer a permanent `unsupported` error, as do the two below.
        """
        raise self._unsupported("SIP trunks")

    def trunk_assign(self, trunk_sid: str, number_sid: str) -> None:
        """Give the number's calls to the trunk (the number must not be on another trunk)."""
        raise self._unsupported("SIP trunks")

    def trunk_unassign(self, trunk_sid: str, number_sid: str) -> None:
        """Take the number off the trunk; a number that is not on it is not an error. Its calls then
        go to its voice URL again (which the caller re-points)."""
        raise self._unsupported("SIP trunks")

    def recording_media(self, sid: str, *, byte_range: str | None = None, audio_format: str = "mp3"
                        ) -> MediaStream:
        """A recording's audio from the provider's own API with this connection's credentials,
        streamed; `byte_range` is an HTTP Range header value, passed on (a browser seeking).
        A recording the provider does not have: a ProviderError with status 404."""
        raise ProviderError(f"{self.name or type(self).__name__} recordings cannot be played through this platform",
                            code="unsupported", permanent=True, provider=self.name)

    def delete_recording(self, sid: str) -> None:
        """Delete a recording, audio and all, at the provider. One already gone is not an error."""
        raise ProviderError(f"{self.name or type(self).__name__} recordings cannot be deleted through this platform",
                            code="unsupported", permanent=True, provider=self.name)

    def update_call(self, call_sid: str, *, twiml: str | None = None, url: str | None = None,
                    hangup: bool = False) -> None:
        """A live call runs new markup now (the AI gateway's transfer; a media stream it was running
        ends): `twiml` given inline, or fetched (POST) from `url`, in the provider's markup (ours on
        the provider's webhook family); or it ends (`hangup`). Not every provider can do each: one
        that cannot says so with a permanent error (`markup_by_url` says which of the two it takes)."""
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
