"""`PhoneProvider` on the official twilio SDK (REST API 2010-04-01).

One instance per connection, built with that connection's credentials; no
module-level client. Every SDK call goes through `_translate_errors`, so callers
only ever see `ProviderError` with `permanent` / `unavailable` / `outcome_unknown`
set the way the retry logic above needs them.
"""
from __future__ import annotations

import contextlib
import functools
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator, get_signature_algorithm
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

from core import outbound
from providers.base import (
    BAD_RESPONSE,
    CONNECTION_FAILED,
    DESTINATION_REFUSED,
    TIMEOUT,
    A2PCampaign,
    AccountInfo,
    AvailableNumber,
    Capabilities,
    CountryNumberPrices,
    MediaStream,
    MessagingService,
    NumberPrice,
    OriginationUrl,
    OwnedPage,
    PhoneProvider,
    PlacedCall,
    ProviderError,
    ProvisionedNumber,
    Regulatory,
    SearchCriteria,
    SentMessage,
    SipTrunk,
    Webhooks,
    unless_gone,
)
from providers.twilio import consts
from providers.twilio.http import ProviderHttpClient

# The bodies Twilio signs field by field; any other body needs `bodySHA256` in the signed URL.
FORM_CONTENT_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})

API_HOST = "https://api.twilio.com"
MAX_PAGE_SIZE = 1000
RECORDING_SID = re.compile(r"RE[0-9a-fA-F]{32}")
# What Twilio serves a recording as: `.wav` (its default) or `.mp3`.
RECORDING_FORMATS = {"wav": "audio/x-wav", "mp3": "audio/mpeg"}
# Pricing v1's number types (PhoneNumbers/Countries/{IsoCountry}) → ours.
PRICED_NUMBER_TYPES = {"local": "local", "toll free": "tollFree", "mobile": "mobile"}


_error = functools.partial(ProviderError, provider=consts.PROVIDER_NAME)
# Every failure to connect, whatever its cause.
UNREACHABLE = "Twilio could not be reached"


def _from_twilio_answer(status: int, code: int | None, message: str) -> ProviderError:
    """A Twilio error answer (status + Twilio code) as a ProviderError."""
    if status == 401 or code == consts.AUTHENTICATION_FAILED:
        return _error(f"Twilio rejected the credentials: {message}", code=code or consts.AUTHENTICATION_FAILED,
                      permanent=True, status=status)
    if code in consts.TRANSIENT_CODES or status == 429 or status >= 500:
        return _error(message, code=code, permanent=False, status=status)
    return _error(message, code=code, permanent=400 <= status < 500, status=status)


def _from_page_failure(exc: TwilioException) -> ProviderError:
    """`list()`/`page()` raise a bare TwilioException("Unable to fetch page", response)."""
    response = exc.args[1] if len(exc.args) > 1 else None
    if response is None:
        return _error(str(exc), code=BAD_RESPONSE)
    try:
        body = json.loads(response.text)
    except ValueError:
        body = {}
    code = body.get("code") if isinstance(body, dict) else None
    message = body.get("message") if isinstance(body, dict) else None
    return _from_twilio_answer(response.status_code, code, message or f"HTTP {response.status_code}")


def _never_connected(exc: requests.ConnectionError) -> bool:
    """Refused, DNS failure, unreachable: the request never left, so it certainly did nothing."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


@contextlib.contextmanager
def _translate_errors(*, mutating: bool) -> Iterator[None]:
    """Turn SDK and transport failures into ProviderError.

    `mutating` requests (POST, DELETE) that time out or lose the connection after
    it was made may have taken effect at Twilio: they are marked outcome_unknown.
    A destination the outbound guard refuses is permanent: nothing was sent.
    """
    try:
        yield
    except TwilioRestException as exc:
        message = exc.msg.split(": ", 1)[-1] if exc.msg else f"HTTP {exc.status}"
        raise _from_twilio_answer(exc.status, exc.code, message) from exc
    except outbound.OutboundRefused as exc:
        raise _error(f"{UNREACHABLE}: {exc.message}", code=DESTINATION_REFUSED, permanent=True) from exc
    except requests.ConnectionError as exc:
        # One message whatever went wrong (refused, reset, not HTTP at all): the answer must not
        # tell a closed port from one where something else listens.
        if _never_connected(exc) or not mutating:
            raise _error(UNREACHABLE, code=CONNECTION_FAILED, unavailable=True) from exc
        raise _error(UNREACHABLE, code=CONNECTION_FAILED, outcome_unknown=True) from exc
    except requests.Timeout as exc:
        raise _error("Twilio did not answer in time", code=TIMEOUT, outcome_unknown=mutating) from exc
    except requests.RequestException as exc:
        raise _error(UNREACHABLE, code=CONNECTION_FAILED, outcome_unknown=mutating) from exc
    except TwilioException as exc:
        raise _from_page_failure(exc) from exc


def _capabilities(raw: dict[str, Any] | None) -> Capabilities:
    # Available numbers say "SMS"/"MMS", owned numbers "sms"/"mms".
    caps = {str(k).lower(): bool(v) for k, v in (raw or {}).items()}
    return Capabilities(voice=caps.get("voice", False), sms=caps.get("sms", False), mms=caps.get("mms", False))


def _provisioned(instance: Any) -> ProvisionedNumber:
    return ProvisionedNumber(
        sid=instance.sid,
        e164=instance.phone_number,
        friendly_name=instance.friendly_name or "",
        capabilities=_capabilities(instance.capabilities),
        voice_url=instance.voice_url or "",
        voice_method=instance.voice_method or "",
        voice_fallback_url=instance.voice_fallback_url or "",
        sms_url=instance.sms_url or "",
        sms_method=instance.sms_method or "",
        status_callback=instance.status_callback or "",
        status_callback_method=instance.status_callback_method or "",
        voice_application_sid=instance.voice_application_sid or "",
        sms_application_sid=instance.sms_application_sid or "",
        trunk_sid=instance.trunk_sid or "",
    )


def _webhook_fields(webhooks: Webhooks) -> dict[str, str]:
    """The SDK keyword arguments for our webhook URLs.

    Empty URLs are left out: Twilio's API contract types every URL field as a `uri`,
    so there is no valid request that blanks one, and an empty URL here means
    "leave Twilio's value alone".
    """
    urls = {"voice_url": webhooks.voice_url, "voice_fallback_url": webhooks.voice_fallback_url,
            "sms_url": webhooks.sms_url, "status_callback": webhooks.status_callback}
    fields = {k: v for k, v in urls.items() if v}
    fields.update(voice_method=webhooks.voice_method, sms_method=webhooks.sms_method,
                  status_callback_method=webhooks.status_callback_method)
    return fields


class TwilioProvider(PhoneProvider):
    """Twilio (or a Twilio-compatible API at `base_url`) for one account.

    Authenticates with an API key (SID + secret) when given, else with the
    account SID + auth token. Webhook signatures can only be checked with the
    auth token, so a key-only connection cannot validate webhooks.
    """

    name = consts.PROVIDER_NAME
    regulatory_documents = True

    def __init__(self, *, account_sid: str, auth_token: str | None = None, api_key_sid: str | None = None,
                 api_key_secret: str | None = None, base_url: str | None = None,
                 http_client: TwilioHttpClient | None = None) -> None:
        if api_key_sid and api_key_secret:
            username, password = api_key_sid, api_key_secret
        elif auth_token:
            username, password = account_sid, auth_token
        else:
            raise _error("Twilio needs an auth token, or an API key SID and secret",
                         code="missing_credentials", permanent=True)
        self.account_sid = account_sid
        self.auth_token = auth_token or ""
        self._auth = (username, password)
        if http_client is None:
            http_client = ProviderHttpClient(base_url, timeout=settings.PROVIDER_TIMEOUT)
        self.client = Client(username, password, account_sid=account_sid, http_client=http_client)

    @property
    def _account(self):
        return self.client.api.v2010.account

    def validate_credentials(self) -> AccountInfo:
        with _translate_errors(mutating=False):
            account = self.client.api.v2010.accounts(self.account_sid).fetch()
        return AccountInfo(account_id=account.sid, friendly_name=account.friendly_name or "",
                           status=account.status or "")

    def search_available(self, criteria: SearchCriteria) -> list[AvailableNumber]:
        country = self._account.available_phone_numbers(criteria.country)
        resource = {"local": country.local, "tollFree": country.toll_free, "mobile": country.mobile}[
            criteria.number_type]
        filters = {"area_code": criteria.area_code, "contains": criteria.contains, "in_region": criteria.region,
                   "sms_enabled": criteria.sms_enabled, "voice_enabled": criteria.voice_enabled,
                   "mms_enabled": criteria.mms_enabled,
                   "exclude_all_address_required": True if criteria.exclude_address_required else None}

        def search() -> Any:
            with _translate_errors(mutating=False):
                # One page of page_size is what the search is: list() could follow next pages.
                return resource.page(page_size=criteria.limit, **{k: v for k, v in filters.items() if v is not None})

        page = unless_gone(search, default=[])  # 404: Twilio sells no numbers of this kind in this country
        return [
            AvailableNumber(
                e164=record.phone_number,
                friendly_name=record.friendly_name or record.phone_number,
                country=record.iso_country or criteria.country,
                locality=record.locality or "",
                region=record.region or "",
                postal_code=record.postal_code or "",
                capabilities=_capabilities(record.capabilities),
                address_requirements=record.address_requirements or "none",
                beta=bool(record.beta),
            )
            for record in page
        ]

    def purchase(self, e164: str, webhooks: Webhooks, *, friendly_name: str = "",
                 regulatory: Regulatory | None = None) -> ProvisionedNumber:
        """Buy `e164` with our webhooks set, and with the end user's Address and regulatory Bundle
        when the number needs them (`regulatory`)."""
        regulatory = regulatory or Regulatory()
        with _translate_errors(mutating=True):
            instance = self._account.incoming_phone_numbers.create(
                phone_number=e164, friendly_name=friendly_name or None,
                address_sid=regulatory.address_sid or None, bundle_sid=regulatory.bundle_sid or None,
                **_webhook_fields(webhooks))
        return _provisioned(instance)

    def address_country(self, address_sid: str) -> str | None:
        def fetch() -> Any:
            with _translate_errors(mutating=False):
                return self._account.addresses(address_sid).fetch()

        address = unless_gone(fetch)
        return (address.iso_country or "").upper() if address is not None else None

    def number_price_countries(self) -> list[str]:
        """Pricing v1 PhoneNumbers/Countries, every page."""
        with _translate_errors(mutating=False):
            return [country.iso_country for country in
                    self.client.pricing.v1.phone_numbers.countries.list(page_size=MAX_PAGE_SIZE)
                    if country.iso_country]

    def number_prices(self, country: str) -> CountryNumberPrices | None:
        """Pricing v1 PhoneNumbers/Countries/{IsoCountry}: each number type's base and current
        monthly price (Twilio writes them as decimal strings, or numbers)."""
        def fetch() -> Any:
            with _translate_errors(mutating=False):
                return self.client.pricing.v1.phone_numbers.countries(country).fetch()

        found = unless_gone(fetch)
        if found is None:
            return None
        prices, unknown = [], []
        for item in found.phone_number_prices or []:
            kind = str(item.get("number_type") or "").lower()
            if kind not in PRICED_NUMBER_TYPES:
                unknown.append(kind)
                continue
            prices.append(NumberPrice(number_type=PRICED_NUMBER_TYPES[kind], base_price=str(item.get("base_price")),
                                      current_price=str(item.get("current_price"))))
        return CountryNumberPrices(country=(found.iso_country or country).upper(),
                                   currency=(found.price_unit or "").upper(), prices=tuple(prices),
                                   unknown_types=tuple(unknown))

    def find_owned(self, e164: str) -> ProvisionedNumber | None:
        with _translate_errors(mutating=False):
            # Twilio's PhoneNumber filter matches partial numbers: keep the exact one.
            page = self._account.incoming_phone_numbers.page(phone_number=e164, page_size=50)
            for instance in page:
                if instance.phone_number == e164:
                    return _provisioned(instance)
        return None

    def list_owned(self, page: str | None = None, page_size: int = MAX_PAGE_SIZE) -> OwnedPage:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        numbers = self._account.incoming_phone_numbers
        with _translate_errors(mutating=False):
            if page:
                result = numbers.get_page(self._checked_page_url(page))
            else:
                result = numbers.page(page_size=page_size)
            owned = [_provisioned(instance) for instance in result]
        return OwnedPage(numbers=owned, next_page=result.next_page_url)

    def _checked_page_url(self, url: str) -> str:
        """A next-page token is a Twilio URL the SDK will send our credentials to: only ever ours."""
        expected = f"{API_HOST}/2010-04-01/Accounts/{self.account_sid}/IncomingPhoneNumbers.json"
        if urlsplit(url)._replace(query="").geturl() != expected:
            raise ValueError("not a next-page token of this account's phone numbers")
        return url

    def list_messaging_services(self) -> list[MessagingService]:
        """Messaging API v1: the services, then each one's numbers and US A2P campaigns (all paged)."""
        services = self.client.messaging.v1.services
        found = []
        with _translate_errors(mutating=False):
            for service in services.list(page_size=MAX_PAGE_SIZE):
                context = services(service.sid)
                numbers = tuple(n.phone_number for n in context.phone_numbers.list(page_size=MAX_PAGE_SIZE))
                campaigns = tuple(A2PCampaign(sid=c.sid, status=(c.campaign_status or "").upper(),
                                              use_case=c.us_app_to_person_usecase or "")
                                  for c in context.us_app_to_person.list(page_size=50))
                found.append(MessagingService(
                    sid=service.sid, friendly_name=service.friendly_name or "",
                    use_inbound_webhook_on_number=bool(service.use_inbound_webhook_on_number),
                    numbers=numbers, campaigns=campaigns))
        return found

    def configure_webhooks(self, sid: str, webhooks: Webhooks, *, friendly_name: str | None = None
                           ) -> ProvisionedNumber:
        """Point the number at `webhooks` in one update.

        A voice/SMS application or a SIP trunk set on the number takes its traffic
        whatever the URLs say; they are reported on the result (for drift checks),
        not cleared: the API contract has no valid value that unsets them.
        """
        with _translate_errors(mutating=True):
            instance = self._account.incoming_phone_numbers(sid).update(
                friendly_name=friendly_name, **_webhook_fields(webhooks))
        return _provisioned(instance)

    def release(self, sid: str) -> None:
        def delete() -> None:
            with _translate_errors(mutating=True):
                self._account.incoming_phone_numbers(sid).delete()

        unless_gone(delete)  # 404: already released, what the caller wanted

    def list_trunks(self) -> list[SipTrunk]:
        """Elastic SIP Trunking v1 (trunking.twilio.com): the trunks, then each one's origination URLs."""
        trunks = self.client.trunking.v1.trunks
        found = []
        with _translate_errors(mutating=False):
            for trunk in trunks.list(page_size=MAX_PAGE_SIZE):
                urls = tuple(
                    OriginationUrl(sid=url.sid, sip_url=url.sip_url or "", priority=int(url.priority or 0),
                                   weight=int(url.weight or 0), enabled=bool(url.enabled),
                                   friendly_name=url.friendly_name or "")
                    for url in trunks(trunk.sid).origination_urls.list(page_size=MAX_PAGE_SIZE))
                found.append(SipTrunk(sid=trunk.sid, friendly_name=trunk.friendly_name or "",
                                      domain_name=trunk.domain_name or "",
                                      origination_urls=tuple(sorted(urls, key=lambda u: (u.priority, -u.weight)))))
        return found

    def trunk_assign(self, trunk_sid: str, number_sid: str) -> None:
        with _translate_errors(mutating=True):
            self.client.trunking.v1.trunks(trunk_sid).phone_numbers.create(phone_number_sid=number_sid)

    def trunk_unassign(self, trunk_sid: str, number_sid: str) -> None:
        def delete() -> None:
            with _translate_errors(mutating=True):
                self.client.trunking.v1.trunks(trunk_sid).phone_numbers(number_sid).delete()

        unless_gone(delete)  # 404: not on that trunk (or the trunk is gone), what the caller wanted

    def send_sms(self, *, to: str, body: str, from_: str | None = None,
                 messaging_service_sid: str | None = None, media_urls: list[str] | None = None,
                 status_callback: str | None = None) -> SentMessage:
        self._check_sender(from_, messaging_service_sid)
        with _translate_errors(mutating=True):
            message = self._account.messages.create(
                to=to, body=body, from_=from_, messaging_service_sid=messaging_service_sid,
                media_url=media_urls or None, status_callback=status_callback)
        return SentMessage(sid=message.sid, status=message.status or "", to=message.to or to,
                           from_=message.from_ or "", segments=int(message.num_segments or 1))

    def find_sent_sms(self, *, to: str, body: str, from_: str | None, since: Any) -> SentMessage | None:
        # Newest first. Not filtered by DateSent: a text still queued has no date sent yet.
        with _translate_errors(mutating=False):
            # An unset filter is left out (the SDK would send None as the text "None").
            found = self._account.messages.list(to=to, limit=50, **({"from_": from_} if from_ else {}))
        for message in found:
            created = message.date_created
            if message.body == body and created is not None and created >= since.replace(microsecond=0):
                return SentMessage(sid=message.sid, status=message.status or "", to=message.to or to,
                                   from_=message.from_ or "", segments=int(message.num_segments or 1))
        return None

    def make_call(self, *, to: str, from_: str, url: str, status_callback: str | None = None) -> PlacedCall:
        with _translate_errors(mutating=True):
            call = self._account.calls.create(
                to=to, from_=from_, url=url, status_callback=status_callback,
                status_callback_method="POST" if status_callback else None)
        # The SDK names the "from" field `_from` on calls (`from_` on messages).
        return PlacedCall(sid=call.sid, status=call.status or "", to=call.to or to, from_=call._from or from_)

    def set_call_recording(self, call_sid: str, status: str) -> None:
        # TwiML can start a recording but not pause it: the Recordings API can, and
        # `Twilio.CURRENT` names the call's recording in progress.
        with _translate_errors(mutating=True):
            self._account.calls(call_sid).recordings("Twilio.CURRENT").update(status=status)

    def _recording_sid(self, sid: str) -> str:
        """A recording SID that goes into a URL path: nothing that could change the path."""
        if not RECORDING_SID.fullmatch(sid or ""):
            raise _error(f"{sid!r} is not a Twilio recording SID", code=20404, permanent=True, status=404)
        return sid

    def recording_media(self, sid: str, *, byte_range: str | None = None, audio_format: str = "mp3"
                        ) -> MediaStream:
        """GET /2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.mp3 (or .wav) on this connection's API
        host (Twilio's, or its `apiBaseUrl`), streamed by the SDK's own HTTP client (its guarded
        session): read in chunks as the caller reads them, with `Range` passed on."""
        if audio_format not in RECORDING_FORMATS:
            raise ValueError(f"audio_format must be one of {', '.join(RECORDING_FORMATS)}")
        url = f"{API_HOST}/2010-04-01/Accounts/{self.account_sid}/Recordings/{self._recording_sid(sid)}.{audio_format}"
        headers = {"Accept": RECORDING_FORMATS[audio_format]}
        if byte_range:
            headers["Range"] = byte_range
        with _translate_errors(mutating=False):
            media = self.client.http_client.stream(url, headers=headers, auth=self._auth)
        if media.status >= 400 and media.status != 416:
            media.close()
            message = "The recording's media was not found" if media.status == 404 else f"HTTP {media.status}"
            raise _from_twilio_answer(media.status, 20404 if media.status == 404 else None, message)
        return media

    def delete_recording(self, sid: str) -> None:
        """DELETE /2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.json: the audio and its metadata."""
        sid = self._recording_sid(sid)

        def delete() -> None:
            with _translate_errors(mutating=True):
                self._account.recordings(sid).delete()

        unless_gone(delete)  # 404: already deleted, what the caller wanted

    def update_call(self, call_sid: str, *, twiml: str | None = None, url: str | None = None,
                    hangup: bool = False) -> None:
        with _translate_errors(mutating=True):
            if hangup:
                self._account.calls(call_sid).update(status="completed")
            elif url:
                self._account.calls(call_sid).update(url=url, method="POST")
            else:
                self._account.calls(call_sid).update(twiml=twiml)

    def validate_webhook(self, request: Any, url: str) -> bool:
        """True when the Django `request` carries Twilio's signature for `url`, made with our auth token.

        `url` is the public URL Twilio was told to call, query string included (built
        from PUBLIC_BASE_URL, never from the Host header). Form posts are signed over
        their parameters. Any other body (JSON) is signed only through the `bodySHA256` Twilio
        puts in the signed URL: without it, or when the body's SHA-256 differs, it is refused
        (a signature over the bare URL would otherwise vouch for any body sent with it).
        """
        signature = request.headers.get("X-Twilio-Signature", "")
        if not self.auth_token or not signature:
            return False
        validator = RequestValidator(self.auth_token)
        algorithm = get_signature_algorithm(request.headers.get("X-Twilio-Webhooks-Signature-Settings"))
        params: Any
        if "bodySHA256" in parse_qs(urlsplit(url).query):
            try:
                params = request.body.decode("utf-8")
            except UnicodeDecodeError:
                return False
            # With a str body the SDK checks the body's SHA-256 against the URL's bodySHA256.
            return validator.validate(url, params, signature, algorithm=algorithm)
        if request.method != "POST":
            params = {}
        elif request.content_type in FORM_CONTENT_TYPES:
            params = request.POST
        elif request.body:
            return False  # a body the signature does not cover
        else:
            params = {}
        return validator.validate(url, params, signature, algorithm=algorithm)
