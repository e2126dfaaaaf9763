"""`PhoneProvider` on Telnyx's REST API (v2), through a small httpx client.

Not the official `telnyx` SDK: it is well kept (generated from the OpenAPI spec, released
weekly), but it is 13 MB of generated code plus pydantic and anyio for the dozen endpoints
we call. One client per instance, built with that connection's API key; no module-level client.

Telnyx numbers carry no webhook URLs of their own: a number is attached to a TeXML
application (voice: Telnyx fetches TeXML, TwiML-compatible markup, from its voice URL) and
to a messaging profile (SMS: events go to its webhook URL). The connection names both;
configuring a number attaches it to them and points their URLs at us.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings

from providers.base import (
    BAD_RESPONSE,
    AccountInfo,
    AvailableNumber,
    Capabilities,
    MessagingService,
    OwnedPage,
    PhoneProvider,
    PlacedCall,
    ProviderError,
    ProvisionedNumber,
    SearchCriteria,
    SentMessage,
    Webhooks,
    unless_gone,
)
from providers.http import client as http_client
from providers.http import error_for_status, json_request
from providers.telnyx import consts

RESOURCE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# TeXML call SIDs: "v3:" and a token (letters, digits, - and _).
CALL_SID = re.compile(r"v\d+:[A-Za-z0-9_-]{1,200}|[A-Za-z0-9_-]{1,64}")


_error = functools.partial(ProviderError, provider=consts.PROVIDER_NAME)


def _reason(body: Any) -> tuple[Any, Any]:
    """Telnyx's first error code and detail (or title)."""
    errors = body.get("errors") if isinstance(body, dict) else None
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    return first.get("code"), first.get("detail") or first.get("title")


# A Telnyx error answer as a ProviderError, with Telnyx's first error code and detail.
_from_answer = functools.partial(error_for_status, provider=consts.PROVIDER_NAME,
                                 rejected="Telnyx rejected the API key", reason=_reason)


def _segment(value: str, what: str) -> str:
    """An id that goes into a URL path: nothing that could change the path."""
    if not RESOURCE_ID.fullmatch(value or ""):
        raise ValueError(f"not a Telnyx {what} id: {value!r}")
    return value


def _provisioned(raw: dict[str, Any]) -> ProvisionedNumber:
    return ProvisionedNumber(
        sid=str(raw["id"]),
        e164=raw["phone_number"],
        friendly_name=raw.get("customer_reference") or "",
        # Telnyx lists no capabilities on an owned number; the search result had them.
        voice_application_sid=str(raw.get("connection_id") or ""),
        sms_application_sid=str(raw.get("messaging_profile_id") or ""),
    )


def _capabilities(features: list[dict[str, Any]] | None) -> Capabilities:
    names = {str(feature.get("name", "")).lower() for feature in features or []}
    return Capabilities(voice="voice" in names, sms="sms" in names, mms="mms" in names)


def _region(raw: dict[str, Any], region_type: str) -> str:
    return next((info.get("region_name") or "" for info in raw.get("region_information") or []
                 if info.get("region_type") == region_type), "")


class TelnyxProvider(PhoneProvider):
    """One Telnyx account, through an API key, with the TeXML application (`connection_id`)
    and messaging profile its numbers are attached to, and the public key its webhooks are
    signed with."""

    name = consts.PROVIDER_NAME

    def __init__(self, *, api_key: str, connection_id: str = "", messaging_profile_id: str = "",
                 webhook_public_key: str = "", transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        if not api_key:
            raise _error("Telnyx needs an API key", code="missing_credentials", permanent=True)
        self.connection_id = connection_id
        self.messaging_profile_id = messaging_profile_id
        self.webhook_public_key = webhook_public_key
        self.sleep = sleep
        self.clock = clock
        # The Webhooks the application and profile were last pointed at by this instance:
        # verifying many numbers re-points them once, not once per number.
        self._pointed: Webhooks | None = None
        self.http = http_client(base_url=f"{consts.API_BASE}/", headers={"Authorization": f"Bearer {api_key}"},
                                timeout=settings.PROVIDER_TIMEOUT, transport=transport)

    def _request(self, method: str, path: str, *, params: Any = None, json: dict[str, Any] | None = None
                 ) -> dict[str, Any]:
        return json_request(self.http, method, path, provider=consts.PROVIDER_NAME, display_name="Telnyx",
                            from_answer=_from_answer, params=params, json=json)

    def _data(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        data = self._request(method, path, **kwargs).get("data")
        if not isinstance(data, dict):
            raise _error(f"Telnyx's answer to {method} {path} has no data object", code=BAD_RESPONSE,
                         outcome_unknown=method != "GET")
        return data

    def _configured(self, path: str, what: str, config_key: str) -> dict[str, Any]:
        """The connection's TeXML application or messaging profile; a 404 means it is misconfigured."""
        try:
            return self._data("GET", path)
        except ProviderError as exc:
            if exc.status == 404:
                raise _error(f"This Telnyx account has no {what} {path.rsplit('/', 1)[-1]} ({config_key})",
                             code=consts.NOT_CONFIGURED, permanent=True, status=404) from exc
            raise

    @staticmethod
    def _configured_path(collection: str, value: str, what: str, config_key: str) -> str:
        if not value:
            raise _error(f"The connection names no {what} ({config_key})", code=consts.NOT_CONFIGURED,
                         permanent=True)
        return f"{collection}/{_segment(value, what)}"

    def _application_path(self) -> str:
        return self._configured_path("texml_applications", self.connection_id, "TeXML application", "connectionId")

    def _profile_path(self) -> str:
        return self._configured_path("messaging_profiles", self.messaging_profile_id, "messaging profile",
                                     "messagingProfileId")

    def validate_credentials(self) -> AccountInfo:
        """The key works (the balance is readable) and the application and profile exist.
        The account id we record is the TeXML application's: TeXML webhooks name it."""
        self._request("GET", "balance")
        app = self._configured(self._application_path(), "TeXML application", "connectionId")
        self._configured(self._profile_path(), "messaging profile", "messagingProfileId")
        return AccountInfo(account_id=self.connection_id, friendly_name=app.get("friendly_name") or "",
                           status="active" if app.get("active", True) else "inactive")

    def search_available(self, criteria: SearchCriteria) -> list[AvailableNumber]:
        params: list[tuple[str, Any]] = [
            ("filter[country_code]", criteria.country),
            ("filter[phone_number_type]", consts.SEARCH_TYPES[criteria.number_type]),
            ("filter[limit]", criteria.limit),
        ]
        if criteria.area_code:
            params.append(("filter[national_destination_code]", criteria.area_code))
        if criteria.contains:
            params.append(("filter[phone_number][contains]", criteria.contains))
        if criteria.region:
            params.append(("filter[administrative_area]", criteria.region))
        wanted = {"voice": criteria.voice_enabled, "sms": criteria.sms_enabled, "mms": criteria.mms_enabled}
        params.extend(("filter[features][]", name) for name, enabled in wanted.items() if enabled)
        body = unless_gone(lambda: self._request("GET", "available_phone_numbers", params=params), default={})
        return [
            AvailableNumber(
                e164=raw["phone_number"], friendly_name=raw.get("vanity_format") or raw["phone_number"],
                country=_region(raw, "country_code") or criteria.country,
                locality=_region(raw, "location") or _region(raw, "rate_center"), region=_region(raw, "state"),
                capabilities=_capabilities(raw.get("features")),
            )
            for raw in body.get("data") or [] if raw.get("phone_number")
        ]

    def purchase(self, e164: str, webhooks: Webhooks, *, friendly_name: str = "") -> ProvisionedNumber:
        """Order the number and wait (bounded) for the order to complete.

        The order carries a reference made from the number, so a retry after a timeout or a
        still-pending order picks the same order up instead of ordering the number twice.
        """
        self._point_application_and_profile(webhooks)
        reference = f"{consts.ORDER_REFERENCE_PREFIX}:{e164}"
        pending = self._request("GET", "number_orders", params=[
            ("filter[customer_reference]", reference), ("filter[status]", consts.ORDER_PENDING)]).get("data") or []
        if pending:
            order = pending[0]
        else:
            order = self._data("POST", "number_orders", json={
                "phone_numbers": [{"phone_number": e164}], "connection_id": self.connection_id,
                "messaging_profile_id": self.messaging_profile_id, "customer_reference": reference})
        order = self._wait_for(order, e164)
        if order.get("status") != consts.ORDER_SUCCESS:
            statuses = ", ".join(f"{n.get('phone_number')}: {n.get('status')}"
                                 for n in order.get("phone_numbers") or [])
            raise _error(f"Telnyx could not fill the order for {e164} ({statuses or order.get('status')})",
                         code=consts.ORDER_FAILED, permanent=True)
        owned = self.find_owned(e164)
        if owned is None:
            raise _error(f"Telnyx filled the order for {e164} but does not list the number yet",
                         code=consts.ORDER_STILL_PENDING, outcome_unknown=True)
        if friendly_name:
            # The order already attached the number to the application and profile.
            owned = _provisioned(self._data("PATCH", f"phone_numbers/{_segment(owned.sid, 'phone number')}",
                                            json={"customer_reference": friendly_name}))
        return self._with_urls(owned, webhooks)

    def _wait_for(self, order: dict[str, Any], e164: str) -> dict[str, Any]:
        deadline = self.clock() + consts.ORDER_WAIT_SECONDS
        order_id = _segment(str(order.get("id") or ""), "number order")
        while order.get("status") == consts.ORDER_PENDING:
            if self.clock() >= deadline:
                raise _error(f"Telnyx's order {order_id} for {e164} is still pending",
                             code=consts.ORDER_STILL_PENDING, outcome_unknown=True)
            self.sleep(consts.ORDER_POLL_SECONDS)
            try:
                order = self._data("GET", f"number_orders/{order_id}")
            except ProviderError as exc:
                exc.outcome_unknown = True  # the order exists: its fate is what we could not read
                raise
        return order

    def find_owned(self, e164: str) -> ProvisionedNumber | None:
        body = self._request("GET", "phone_numbers", params=[("filter[phone_number]", e164), ("page[size]", 20)])
        # The filter also matches partial numbers: keep the exact one.
        return next((_provisioned(raw) for raw in body.get("data") or [] if raw.get("phone_number") == e164), None)

    def list_owned(self, page: str | None = None, page_size: int = consts.MAX_PAGE_SIZE) -> OwnedPage:
        """Telnyx pages by page number; the next-page token is that number. At most 250 a page."""
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        if page is not None and not page.isdigit():
            raise ValueError("not a next-page token of Telnyx numbers")
        number = int(page or 1)
        body = self._request("GET", "phone_numbers", params=[
            ("page[number]", number), ("page[size]", min(page_size, consts.MAX_PAGE_SIZE))])
        total_pages = int((body.get("meta") or {}).get("total_pages") or 0)
        return OwnedPage(numbers=[_provisioned(raw) for raw in body.get("data") or []],
                         next_page=str(number + 1) if number < total_pages else None)

    def _pages(self, path: str) -> Iterator[dict[str, Any]]:
        """Every record of a page-numbered list, a page requested only when the one before is used up."""
        number = 1
        while True:
            body = self._request("GET", path, params=[("page[number]", number), ("page[size]", consts.MAX_PAGE_SIZE)])
            yield from body.get("data") or []
            if number >= int((body.get("meta") or {}).get("total_pages") or 0):
                return
            number += 1

    def list_messaging_services(self) -> list[MessagingService]:
        """Telnyx's sender pools are messaging profiles; a profile's webhook takes its numbers'
        inbound SMS. 10DLC campaigns are registered per number on Telnyx and not reported here."""
        services = []
        for profile in list(self._pages("messaging_profiles")):
            profile_id = _segment(str(profile.get("id") or ""), "messaging profile")
            numbers = tuple(n["phone_number"] for n in self._pages(f"messaging_profiles/{profile_id}/phone_numbers")
                            if n.get("phone_number"))
            services.append(MessagingService(sid=profile_id, friendly_name=profile.get("name") or "", numbers=numbers))
        return services

    def configure_webhooks(self, sid: str, webhooks: Webhooks, *, friendly_name: str | None = None
                           ) -> ProvisionedNumber:
        """Attach the number to the connection's TeXML application and messaging profile,
        whose URLs are pointed at `webhooks` first."""
        number_path = f"phone_numbers/{_segment(sid, 'phone number')}"
        self._point_application_and_profile(webhooks)
        fields = {"connection_id": self.connection_id}
        if friendly_name:
            fields["customer_reference"] = friendly_name
        number = self._data("PATCH", number_path, json=fields)
        messaging = self._data("PATCH", f"{number_path}/messaging",
                               json={"messaging_profile_id": self.messaging_profile_id})
        number["messaging_profile_id"] = messaging.get("messaging_profile_id") or self.messaging_profile_id
        return self._with_urls(_provisioned(number), webhooks)

    def _point_application_and_profile(self, webhooks: Webhooks) -> None:
        """Point the TeXML application's voice and status URLs and the messaging profile's
        webhook URL at us; each is written only when it differs."""
        if webhooks == self._pointed:
            return
        app_path, profile_path = self._application_path(), self._profile_path()
        app = self._configured(app_path, "TeXML application", "connectionId")
        wanted = {"voice_url": webhooks.voice_url, "voice_method": webhooks.voice_method.lower(),
                  "voice_fallback_url": webhooks.voice_fallback_url, "status_callback": webhooks.status_callback,
                  "status_callback_method": webhooks.status_callback_method.lower()}
        wanted = {k: v for k, v in wanted.items() if v}
        if any(app.get(k) != v for k, v in wanted.items()):
            # friendly_name is required on every update; keep the user's.
            self._data("PATCH", app_path, json={"friendly_name": app.get("friendly_name") or "phone-platform",
                                                **wanted})
        profile = self._configured(profile_path, "messaging profile", "messagingProfileId")
        if webhooks.sms_url and (profile.get("webhook_url") != webhooks.sms_url
                                 or str(profile.get("webhook_api_version")) != "2"):
            self._data("PATCH", profile_path, json={"webhook_url": webhooks.sms_url, "webhook_api_version": "2"})
        self._pointed = webhooks

    @staticmethod
    def _with_urls(number: ProvisionedNumber, webhooks: Webhooks) -> ProvisionedNumber:
        return dataclasses.replace(
            number, voice_url=webhooks.voice_url, voice_method=webhooks.voice_method,
            voice_fallback_url=webhooks.voice_fallback_url, sms_url=webhooks.sms_url, sms_method="POST",
            status_callback=webhooks.status_callback, status_callback_method=webhooks.status_callback_method)

    def delete_recording(self, sid: str) -> None:
        """Telnyx's call recordings (DELETE /v2/recordings/{recording_id})."""
        path = f"recordings/{_segment(sid, 'recording')}"
        unless_gone(lambda: self._request("DELETE", path))  # 404: already gone

    def release(self, sid: str) -> None:
        path = f"phone_numbers/{_segment(sid, 'phone number')}"
        unless_gone(lambda: self._request("DELETE", path))  # 404: already released, what the caller wanted

    def send_sms(self, *, to: str, body: str, from_: str | None = None,
                 messaging_service_sid: str | None = None, media_urls: list[str] | None = None,
                 status_callback: str | None = None) -> SentMessage:
        """`messaging_service_sid` is a Telnyx messaging profile id: without `from_`, Telnyx
        picks a sender from that profile's number pool."""
        self._check_sender(from_, messaging_service_sid)
        fields: dict[str, Any] = {"to": to, "text": body}
        if from_:
            fields["from"] = from_
        else:
            fields["messaging_profile_id"] = messaging_service_sid
        if media_urls:
            fields["media_urls"] = media_urls
        if status_callback:
            fields["webhook_url"] = status_callback
        message = self._data("POST", "messages", json=fields)
        recipients = message.get("to") or [{}]
        return SentMessage(sid=str(message["id"]), status=recipients[0].get("status") or "queued", to=to,
                           from_=(message.get("from") or {}).get("phone_number") or from_ or "",
                           segments=int(message.get("parts") or 1))

    def make_call(self, *, to: str, from_: str, url: str, status_callback: str | None = None) -> PlacedCall:
        """A TeXML call through the connection's application; `url` answers with TeXML."""
        fields = {"From": from_, "To": to, "Url": url}
        if status_callback:
            fields.update(StatusCallback=status_callback, StatusCallbackMethod="POST")
        # Names are case-sensitive here, and the answer is a flat call object (no "data").
        call = self._request("POST", f"texml/calls/{_segment(self.connection_id, 'TeXML application')}",
                             json=fields)
        sid = call.get("call_sid") or call.get("sid")
        if not sid:
            raise _error("Telnyx placed the call but did not say its id", code=BAD_RESPONSE,
                         outcome_unknown=True)
        return PlacedCall(sid=str(sid), status=call.get("status") or "queued", to=to, from_=from_)

    def update_call(self, call_sid: str, *, twiml: str | None = None, url: str | None = None,
                    hangup: bool = False) -> None:
        """A live TeXML call, by its CallSid alone (POST texml/calls/{call_sid}/update, JSON with
        Telnyx's CamelCase keys): `Status=completed` ends it (one already over is not an error);
        `Texml` replaces its TeXML with ours (TwiML, which TeXML reads), or `Url` (+ `Method`) has
        Telnyx fetch the new TeXML. The account-scoped update (texml/Accounts/{account_sid}/Calls/…)
        takes the same fields but needs the Telnyx account id, which a connection does not hold. A
        transfer of a call that is over is an error (404): the caller is gone."""
        if not CALL_SID.fullmatch(call_sid or ""):
            raise ValueError(f"not a Telnyx call id: {call_sid!r}")
        path = f"texml/calls/{call_sid}/update"
        if hangup:
            unless_gone(lambda: self._request("POST", path, json={"Status": "completed"}))
        elif url:
            self._request("POST", path, json={"Url": url, "Method": "POST"})
        elif twiml:
            self._request("POST", path, json={"Texml": twiml})
        else:
            raise ValueError("update_call needs twiml, url or hangup")

    def validate_webhook(self, request: Any, url: str) -> bool:
        """True when the Django `request` is signed with the account's Ed25519 key over
        `<timestamp>|<raw body>` and the timestamp is within five minutes of now (a replayed
        old request is refused). Telnyx does not sign the URL, so `url` plays no part."""
        signature = request.headers.get(consts.SIGNATURE_HEADER, "")
        timestamp = request.headers.get(consts.TIMESTAMP_HEADER, "")
        if not (self.webhook_public_key and signature and timestamp.isdigit()):
            return False
        if abs(time.time() - int(timestamp)) > consts.SIGNATURE_TOLERANCE_SECONDS:
            return False
        try:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(self.webhook_public_key, validate=True))
            key.verify(base64.b64decode(signature, validate=True), timestamp.encode() + b"|" + request.body)
        except (InvalidSignature, ValueError, binascii.Error):
            return False
        return True
