"""Twilio's 2010-04-01 wire format: resource bodies, list envelopes and error bodies.

Field names, `uri` values (relative to https://api.twilio.com, never to where the
emulator is mounted, so next-page links work in-process and under /sandbox/ alike)
and RFC 2822 dates as api.twilio.com writes them. Unset SIDs and URLs are null, as
the spec's patterns (`^AP[0-9a-fA-F]{32}$` ...) allow for nothing else.
"""
from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

import phonenumbers
from django.http import HttpResponse, JsonResponse

from sandbox.inventory import TWILIO_TYPE, Offer
from sandbox.models import SandboxAccount, SandboxCall, SandboxMessage, SandboxNumber
from sandbox.requirements import address_requirement

API_VERSION = "2010-04-01"
API_ROOT = f"/{API_VERSION}"
FAULT_HEADER = "X-Sandbox-Fault"
INVALID_PARAMETER = 20001  # Twilio's code for a malformed parameter value
NOT_EMULATED = 20001  # a parameter Twilio documents that the sandbox does not emulate: refused, never ignored
# What a message's date_sent is set by: it left (or arrived). Queued, accepted and failed texts were never sent.
SENT_STATUSES = ("sent", "delivered", "undelivered", "received", "read")
RECORDING_MEDIA_ROOT = "https://api.twilio.com"


class TwilioApiError(Exception):
    """A refusal the emulator answers with Twilio's error body."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def error_response(status: int, code: int, message: str) -> JsonResponse:
    body = {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}
    if status == 401:  # Twilio's 401 also says what was wrong
        body["detail"] = "Your AccountSid or AuthToken was incorrect."
    response = JsonResponse(body, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="Twilio API"'
    return response


def no_content() -> HttpResponse:
    """Twilio's 204: no body, and so no content type."""
    response = HttpResponse(status=204)
    del response["Content-Type"]
    return response


def not_found_message(path: str) -> str:
    return f"The requested resource {path} was not found"


def not_found(path: str) -> JsonResponse:
    return error_response(404, 20404, not_found_message(path))


def rfc2822(value: datetime | None) -> str | None:
    return format_datetime(value) if value else None


def account_path(account_sid: str, rest: str = ".json") -> str:
    return f"{API_ROOT}/Accounts/{account_sid}{rest}"


def _or_null(value: str) -> str | None:
    return value or None


def _formatted(e164: str) -> str:
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def account_json(account: SandboxAccount) -> dict[str, Any]:
    return {
        "auth_token": account.auth_token,
        "date_created": rfc2822(account.date_created),
        "date_updated": rfc2822(account.date_updated),
        "friendly_name": account.friendly_name,
        "owner_account_sid": account.sid,
        "sid": account.sid,
        "status": account.status,
        "subresource_uris": {
            name: account_path(account.sid, f"/{resource}.json")
            for name, resource in (("available_phone_numbers", "AvailablePhoneNumbers"), ("calls", "Calls"),
                                   ("incoming_phone_numbers", "IncomingPhoneNumbers"), ("messages", "Messages"),
                                   ("recordings", "Recordings"))
        },
        "type": "Full",
        "uri": account_path(account.sid),
    }


def available_json(offer: Offer) -> dict[str, Any]:
    nanp = offer.iso_country in ("US", "CA")
    return {
        "friendly_name": offer.friendly_name,
        "phone_number": offer.e164,
        "lata": None,
        "locality": _or_null(offer.locality),
        "rate_center": _or_null(offer.rate_center) if nanp else None,
        "latitude": None,
        "longitude": None,
        "region": _or_null(offer.region),
        "postal_code": _or_null(offer.postal_code),
        "iso_country": offer.iso_country,
        "address_requirements": offer.address_requirements,
        "beta": False,
        # Twilio spells these two in capitals on available numbers (and in lower case on owned ones).
        "capabilities": {"voice": offer.voice, "SMS": offer.sms, "MMS": offer.mms, "fax": False},
    }


def number_json(number: SandboxNumber) -> dict[str, Any]:
    return {
        "account_sid": number.account.sid,
        "address_sid": _or_null(number.address_sid),
        "address_requirements": address_requirement(number.iso_country, number.number_type),
        "api_version": API_VERSION,
        "beta": False,
        "capabilities": {"voice": number.voice, "sms": number.sms, "mms": number.mms, "fax": False},
        "date_created": rfc2822(number.date_created),
        "date_updated": rfc2822(number.date_updated),
        "friendly_name": number.friendly_name,
        "identity_sid": _or_null(number.identity_sid),
        "phone_number": number.phone_number,
        "origin": "twilio",
        "sid": number.sid,
        "sms_application_sid": _or_null(number.sms_application_sid),
        "sms_fallback_method": number.sms_fallback_method,
        "sms_fallback_url": _or_null(number.sms_fallback_url),
        "sms_method": number.sms_method,
        "sms_url": _or_null(number.sms_url),
        "status_callback": _or_null(number.status_callback),
        "status_callback_method": number.status_callback_method,
        "trunk_sid": _or_null(number.trunk_sid),
        "uri": account_path(number.account.sid, f"/IncomingPhoneNumbers/{number.sid}.json"),
        "voice_receive_mode": number.voice_receive_mode,
        "voice_application_sid": _or_null(number.voice_application_sid),
        "voice_caller_id_lookup": number.voice_caller_id_lookup,
        "voice_fallback_method": number.voice_fallback_method,
        "voice_fallback_url": _or_null(number.voice_fallback_url),
        "voice_method": number.voice_method,
        "voice_url": _or_null(number.voice_url),
        "emergency_status": number.emergency_status,
        "emergency_address_sid": _or_null(number.emergency_address_sid),
        "emergency_address_status": "registered" if number.emergency_address_sid else "unregistered",
        "bundle_sid": _or_null(number.bundle_sid),
        "status": "in-use",
        "type": TWILIO_TYPE.get(number.number_type, number.number_type),
    }


def message_json(message: SandboxMessage) -> dict[str, Any]:
    uri = account_path(message.account.sid, f"/Messages/{message.sid}.json")
    return {
        "account_sid": message.account.sid,
        "api_version": API_VERSION,
        "body": message.body,
        "date_created": rfc2822(message.date_created),
        "date_sent": rfc2822(message.date_created) if message.status in SENT_STATUSES else None,
        "date_updated": rfc2822(message.date_updated),
        "direction": message.direction,
        "error_code": None,
        "error_message": None,
        "from": _or_null(message.from_number),
        "messaging_service_sid": _or_null(message.messaging_service_sid),
        "num_media": str(len(message.media_urls)),
        "num_segments": str(message.num_segments),
        "price": None,
        "price_unit": "USD",
        "sid": message.sid,
        "status": message.status,
        "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
        "to": message.to,
        "uri": uri,
    }


def call_json(call: SandboxCall, phone_number_sid: str | None) -> dict[str, Any]:
    uri = account_path(call.account.sid, f"/Calls/{call.sid}.json")
    return {
        "sid": call.sid,
        "date_created": rfc2822(call.date_created),
        "date_updated": rfc2822(call.date_updated),
        "parent_call_sid": None,
        "account_sid": call.account.sid,
        "to": call.to,
        "to_formatted": _formatted(call.to),
        "from": call.from_number,
        "from_formatted": _formatted(call.from_number),
        "phone_number_sid": phone_number_sid,
        "status": call.status,
        # Never dialled: a call that ended was never answered, so it has no start and lasted 0 seconds.
        "start_time": None,
        "end_time": rfc2822(call.end_time),
        "duration": "0" if call.end_time else None,
        "price": None,
        "price_unit": "USD",
        "direction": call.direction,
        "answered_by": None,
        "api_version": API_VERSION,
        "forwarded_from": None,
        "group_sid": None,
        "caller_name": None,
        "queue_time": "0",
        "trunk_sid": None,
        "uri": uri,
        "subresource_uris": {name: uri.replace(".json", f"/{resource}.json")
                             for name, resource in (("notifications", "Notifications"),
                                                    ("recordings", "Recordings"), ("events", "Events"))},
    }


def list_uri(path: str, query: list[tuple[str, str]]) -> str:
    return f"{path}?{urlencode(query)}" if query else path


def page_query(page_size: int, page_number: int, token: str | None = None,
               filters: list[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """The query of a list page's link: the list's filters, then PageSize, Page and PageToken."""
    return [*filters, ("PageSize", str(page_size)), ("Page", str(page_number)),
            *([("PageToken", token)] if token else [])]


def list_envelope(*, key: str, items: list[dict[str, Any]], path: str, filters: list[tuple[str, str]],
                  page: int, page_size: int, next_token: str | None) -> dict[str, Any]:
    """Twilio's paging envelope. Next pages are found by token; Page is kept for the client's sake."""
    def uri(page_number: int, token: str | None = None) -> str:
        return list_uri(path, page_query(page_size, page_number, token, filters))

    start = page * page_size
    return {
        key: items,
        "end": start + max(len(items) - 1, 0),
        "first_page_uri": uri(0),
        "next_page_uri": uri(page + 1, next_token) if next_token else None,
        "page": page,
        "page_size": page_size,
        "previous_page_uri": uri(page - 1) if page > 0 else None,
        "start": start,
        "uri": uri(page),
    }


RECORDING_SECONDS = 3  # the length of the generated audio every completed recording has


def recording_json(call: SandboxCall, *, account_level: bool = False) -> dict[str, Any]:
    """A call's recording as the Recordings resource answers it: under the call (Calls/{CallSid}/
    Recordings, the default) or the account's (Recordings, with its media URL)."""
    done = call.recording_status == "completed"
    body = {
        "account_sid": call.account.sid,
        "api_version": API_VERSION,
        "call_sid": call.sid,
        "conference_sid": None,
        "date_created": rfc2822(call.date_created),
        "date_updated": rfc2822(call.date_updated),
        "start_time": rfc2822(call.date_created),
        "duration": str(RECORDING_SECONDS) if done else "-1",
        "sid": call.recording_sid,
        "price": None,
        "uri": account_path(call.account.sid, f"/Calls/{call.sid}/Recordings/{call.recording_sid}.json"),
        "encryption_details": None,
        "price_unit": "USD",
        "status": call.recording_status,
        "channels": 2,
        # The spec's enum has no TwiML source for <Start><Recording>; its nearest value.
        "source": "StartCallRecordingAPI",
        "error_code": None,
        "track": "both",
    }
    if account_level:
        path = account_path(call.account.sid, f"/Recordings/{call.recording_sid}")
        del body["track"]
        body.update(uri=f"{path}.json", media_url=f"{RECORDING_MEDIA_ROOT}{path}", subresource_uris={
            "add_on_results": f"{path}/AddOnResults.json", "transcriptions": f"{path}/Transcriptions.json"})
    return body


def country_json(account_sid: str, country: str, name: str, kinds: tuple[str, ...]) -> dict[str, Any]:
    """An AvailablePhoneNumbers country, with the number types the sandbox sells there."""
    path = account_path(account_sid, f"/AvailablePhoneNumbers/{country}")
    return {"country_code": country, "country": name, "uri": f"{path}.json", "beta": False,
            "subresource_uris": {kind.lower().replace("tollfree", "toll_free"): f"{path}/{kind}.json"
                                 for kind in kinds}}
