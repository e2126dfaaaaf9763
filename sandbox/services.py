"""Writes of the sandbox emulator: accounts, keys, faults, and what the REST views do.

Refusals are raised as `TwilioApiError` with the code Twilio would answer.

The in-process client (`sandbox.client`) runs these in the caller's thread and
database connection, so they join whatever transaction the caller has open. The
platform's services never call a provider inside a transaction; if one did, a
rollback would also undo the emulated Twilio's side of the exchange.
"""
from __future__ import annotations

import re
import secrets
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import phonenumbers
from django.db import IntegrityError, transaction
from django.db.models import F

from core.segments import segment_count
from sandbox import inventory, magic, receipts, regulatory
from sandbox.inventory import Offer
from sandbox.models import (
    SandboxAccount,
    SandboxApiKey,
    SandboxCall,
    SandboxFault,
    SandboxMessage,
    SandboxNumber,
    new_sid,
)
from sandbox.selectors import first_available_in_area, number_owner_exists
from sandbox.twilio_json import (
    INVALID_PARAMETER,
    NOT_EMULATED,
    TwilioApiError,
    account_path,
    not_found_message,
)

URL_FIELDS = ("VoiceUrl", "VoiceFallbackUrl", "SmsUrl", "SmsFallbackUrl", "StatusCallback")
URL = re.compile(r"^https?://[^\s/]+")
METHODS = ("GET", "POST")
METHOD_FIELDS = ("VoiceMethod", "VoiceFallbackMethod", "SmsMethod", "SmsFallbackMethod", "StatusCallbackMethod")
SID_FIELDS = {"VoiceApplicationSid": "AP", "SmsApplicationSid": "AP", "TrunkSid": "TK", "AddressSid": "AD",
              "EmergencyAddressSid": "AD", "BundleSid": "BU", "IdentitySid": "RI"}
# Fields with a fixed set of values: (allowed values, as Twilio spells them).
CHOICE_FIELDS = {"VoiceReceiveMode": ("voice", "fax"), "EmergencyStatus": ("Active", "Inactive"),
                 "ApiVersion": ("2010-04-01",)}
FIELD_COLUMNS = {
    "FriendlyName": "friendly_name", "VoiceUrl": "voice_url", "VoiceMethod": "voice_method",
    "VoiceFallbackUrl": "voice_fallback_url", "VoiceFallbackMethod": "voice_fallback_method",
    "SmsUrl": "sms_url", "SmsMethod": "sms_method", "SmsFallbackUrl": "sms_fallback_url",
    "SmsFallbackMethod": "sms_fallback_method", "StatusCallback": "status_callback",
    "StatusCallbackMethod": "status_callback_method", "VoiceApplicationSid": "voice_application_sid",
    "SmsApplicationSid": "sms_application_sid", "TrunkSid": "trunk_sid",
    "VoiceCallerIdLookup": "voice_caller_id_lookup", "VoiceReceiveMode": "voice_receive_mode",
    "AddressSid": "address_sid", "EmergencyAddressSid": "emergency_address_sid",
    "EmergencyStatus": "emergency_status", "BundleSid": "bundle_sid", "IdentitySid": "identity_sid",
}
# Every IncomingPhoneNumber field a purchase (POST IncomingPhoneNumbers) and an update (POST
# IncomingPhoneNumbers/{Sid}) take: the columns above, the version (2010-04-01 only), what to buy,
# and on an update the owner (moving a number to another account is not emulated).
NUMBER_CREATE_PARAMS = frozenset({*FIELD_COLUMNS, "ApiVersion", "PhoneNumber", "AreaCode"})
NUMBER_UPDATE_PARAMS = frozenset({*FIELD_COLUMNS, "ApiVersion", "AccountSid"})
MAX_BODY = 1600


def sandbox_account_create(*, friendly_name: str) -> SandboxAccount:
    return SandboxAccount.objects.create(sid=new_sid("AC"), auth_token=secrets.token_hex(16),
                                         friendly_name=friendly_name[:64])


def sandbox_api_key_create(*, account: SandboxAccount, friendly_name: str = "") -> SandboxApiKey:
    return SandboxApiKey.objects.create(sid=new_sid("SK"), secret=secrets.token_hex(16), account=account,
                                        friendly_name=friendly_name[:64])


def sandbox_fault_add(*, account_sid: str, resource: str = "IncomingPhoneNumbers", method: str = "POST",
                      kind: str = SandboxFault.Kind.HTTP_500, times: int = 1) -> SandboxFault:
    """Make the next `times` `method` requests on `resource` of this account fail as `kind`.

    `resource` is the collection name in the URL: IncomingPhoneNumbers, Messages, Calls,
    AvailablePhoneNumbers or Accounts.
    """
    if kind not in SandboxFault.Kind.values:
        raise ValueError(f"unknown fault kind {kind!r}")
    account = SandboxAccount.objects.get(sid=account_sid)
    return SandboxFault.objects.create(account=account, resource=resource, method=method.upper(), kind=kind,
                                       remaining=times)


def sandbox_fault_take(*, account: SandboxAccount, resource: str, method: str) -> str | None:
    """Use up one matching fault, oldest first; its kind, or None when nothing is armed.
    Rows are locked only when one is armed: most requests meet no fault."""
    armed = SandboxFault.objects.filter(account=account, resource=resource, method=method, remaining__gt=0)
    if not armed.exists():
        return None
    with transaction.atomic():
        fault = armed.select_for_update().order_by("pk").first()
        if fault is None:
            return None
        if fault.remaining == 1:
            fault.delete()
        else:
            SandboxFault.objects.filter(pk=fault.pk).update(remaining=F("remaining") - 1)
    return fault.kind


def _bad_request(code: int, message: str) -> TwilioApiError:
    return TwilioApiError(400, code, message)


def _number_fields(params: dict[str, str]) -> dict[str, str | bool]:
    """Model columns for the IncomingPhoneNumber fields present in `params`, validated as Twilio does."""
    fields: dict[str, str | bool] = {}
    if "ApiVersion" in params and params["ApiVersion"] not in CHOICE_FIELDS["ApiVersion"]:
        raise _bad_request(NOT_EMULATED, f"ApiVersion {params['ApiVersion']} is not emulated by the sandbox "
                                         "(2010-04-01 only)")
    for name, column in FIELD_COLUMNS.items():
        if name not in params:
            continue
        value = params[name].strip()
        if name == "VoiceCallerIdLookup":
            if value.lower() not in ("true", "false"):
                raise _bad_request(INVALID_PARAMETER, f"{name} must be true or false")
            fields[column] = value.lower() == "true"
            continue
        if name in CHOICE_FIELDS and value not in CHOICE_FIELDS[name]:
            raise _bad_request(INVALID_PARAMETER, f"{name} must be one of {', '.join(CHOICE_FIELDS[name])}")
        if name in URL_FIELDS and value and not URL.match(value):
            raise _bad_request(21502, f"{name} is not a valid URL: {value}")
        if name in METHOD_FIELDS:
            value = value.upper() or "POST"
            if value not in METHODS:
                raise _bad_request(21403, f"{name} must be GET or POST")
        if name in SID_FIELDS and value and not re.fullmatch(SID_FIELDS[name] + r"[0-9a-fA-F]{32}", value):
            raise _bad_request(INVALID_PARAMETER, f"{name} is not a valid SID: {value}")
        fields[column] = value[:64] if name == "FriendlyName" else value
    return fields


def _check_emergency(number: SandboxNumber) -> None:
    """Twilio activates emergency calling only on a number with an emergency address."""
    if number.emergency_status == "Active" and not number.emergency_address_sid:
        raise _bad_request(21649, "EmergencyStatus Active needs an EmergencyAddressSid")


def _magic_offer() -> Offer:
    return Offer(e164=magic.MAGIC_OK_NUMBER, friendly_name="(500) 555-0006", iso_country="US",
                 number_type=inventory.LOCAL, locality="", region="", postal_code="", voice=True, sms=True, mms=True)


def _offer_to_buy(params: dict[str, str]) -> Offer:
    phone_number, area_code = params.get("PhoneNumber", "").strip(), params.get("AreaCode", "").strip()
    if phone_number == magic.MAGIC_OK_NUMBER or (not phone_number and area_code == magic.MAGIC_OK_AREA_CODE):
        return _magic_offer()
    if phone_number:
        if not _valid_e164(phone_number):
            raise _bad_request(21421, f"PhoneNumber {phone_number} is invalid")
        offer = inventory.find_offer(phone_number)
        if offer is None or number_owner_exists(phone_number):
            raise _bad_request(21422, f"PhoneNumber {phone_number} is not available")
        return offer
    if not area_code:
        raise _bad_request(21421, "A PhoneNumber or an AreaCode is required")
    if not re.fullmatch(r"[2-9]\d\d", area_code):
        raise _bad_request(21451, f"AreaCode {area_code} is invalid")
    offer = first_available_in_area(area_code)
    if offer is None:
        raise _bad_request(21452, f"No phone numbers found in area code {area_code}")
    return offer


def sandbox_number_purchase(*, account: SandboxAccount, params: dict[str, str],
                            number_type: str | None = None) -> SandboxNumber:
    """POST IncomingPhoneNumbers: buy by PhoneNumber or AreaCode, webhooks set in the same call.
    `number_type` (POST IncomingPhoneNumbers/Local, TollFree or Mobile) refuses any other kind."""
    hit = magic.magic_error("IncomingPhoneNumbers", params)
    if hit:
        raise _bad_request(*hit)
    offer = _offer_to_buy(params)
    if number_type and offer.number_type != number_type:
        raise _bad_request(21422, f"PhoneNumber {offer.e164} is not a {number_type} number")
    fields = _number_fields(params)
    regulatory.address_check(account=account, country=offer.iso_country, number_type=offer.number_type,
                             address_sid=str(fields.get("address_sid", "")))
    fields.setdefault("friendly_name", offer.friendly_name)
    number = SandboxNumber(sid=new_sid("PN"), account=account, phone_number=offer.e164,
                           iso_country=offer.iso_country, number_type=offer.number_type, voice=offer.voice,
                           sms=offer.sms, mms=offer.mms, **fields)
    _check_emergency(number)
    try:
        with transaction.atomic():
            number.save(force_insert=True)
            return number
    except IntegrityError:  # owned by this account already, or bought by someone else a moment ago
        raise _bad_request(21422, f"PhoneNumber {offer.e164} is not available") from None


def sandbox_number_update(*, number: SandboxNumber, params: dict[str, str]) -> SandboxNumber:
    """POST IncomingPhoneNumbers/{Sid}: change only the fields sent; an empty value clears a URL or SID."""
    owner = params.get("AccountSid")
    if owner is not None and owner != number.account.sid:
        raise _bad_request(NOT_EMULATED, "Moving a number to another account (AccountSid) is not emulated by "
                                         "the sandbox")
    fields = _number_fields(params)
    if fields.get("friendly_name") == "":
        fields["friendly_name"] = number.friendly_name
    for column, value in fields.items():
        setattr(number, column, value)
    _check_emergency(number)
    number.save()
    return number


def sandbox_number_release(*, number: SandboxNumber) -> None:
    number.delete()


def segments(body: str) -> int:
    """How many SMS a body takes (GSM-7: 160, or 153 when split; UCS-2: 70, or 67): core.segments."""
    return segment_count(body).segments


def _valid_e164(value: str) -> bool:
    try:
        return value.startswith("+") and phonenumbers.is_valid_number(phonenumbers.parse(value))
    except phonenumbers.NumberParseException:
        return False


def sandbox_message_create(*, account: SandboxAccount, params: dict[str, str], media_urls: list[str]
                           ) -> SandboxMessage:
    """POST Messages: checked the way Twilio checks, From before To; nothing is delivered."""
    to, from_ = params.get("To", "").strip(), params.get("From", "").strip()
    service_sid, body = params.get("MessagingServiceSid", "").strip(), params.get("Body", "")
    hit = magic.magic_error("Messages", {"From": from_, "To": to})
    if hit:
        raise _bad_request(*hit)
    if not to:
        raise _bad_request(21604, "A 'To' phone number is required.")
    if service_sid and not re.fullmatch(r"MG[0-9a-fA-F]{32}", service_sid):
        raise _bad_request(21701, f"The Messaging Service Sid {service_sid} is invalid.")
    if not service_sid:
        if not from_:
            raise _bad_request(21603, "A 'From' phone number is required.")
        sender = account.numbers.filter(phone_number=from_).first()
        if from_ != magic.MAGIC_OK_NUMBER and (sender is None or not sender.sms):
            raise _bad_request(21606, f"The 'From' phone number {from_} is not a valid, SMS-capable inbound "
                                      "phone number or short code for your account.")
    if not _valid_e164(to):
        raise _bad_request(21211, f"The 'To' number {to} is not a valid phone number.")
    if not body and not media_urls:
        raise _bad_request(21602, "Message body is required.")
    if len(body) > MAX_BODY:
        raise _bad_request(21617, "The concatenated message body exceeds the 1600 character limit.")
    receipts.sender_rate_check(account=account, from_=from_, service_sid=service_sid)
    return SandboxMessage.objects.create(
        sid=new_sid("MM" if media_urls else "SM"), account=account, to=to,
        from_number="" if service_sid else from_, messaging_service_sid=service_sid, body=body,
        media_urls=media_urls, num_segments=segments(body) if body else 1,
        status="accepted" if service_sid else "queued", status_callback=params.get("StatusCallback", ""))


MESSAGE_CREATE_PARAMS = frozenset({"To", "From", "MessagingServiceSid", "Body", "MediaUrl", "StatusCallback"})


def sandbox_message_update(*, message: SandboxMessage, params: dict[str, str]) -> SandboxMessage:
    """POST Messages/{Sid}: Body="" redacts the text; Status=canceled cancels a scheduled one (the
    sandbox schedules none, so it is refused as Twilio refuses canceling an unscheduled text)."""
    if "Status" in params:
        if params["Status"] != "canceled":
            raise _bad_request(INVALID_PARAMETER, "Status must be canceled")
        raise _bad_request(30409, "Only a scheduled message can be canceled")
    if "Body" in params:
        if params["Body"] != "":
            raise _bad_request(INVALID_PARAMETER, "Body can only be set to the empty string (redaction)")
        message.body = ""
        message.save(update_fields=["body", "date_updated"])
    return message


def sandbox_message_delete(*, message: SandboxMessage) -> None:
    message.delete()


def sandbox_account_update(*, account: SandboxAccount, params: dict[str, str]) -> SandboxAccount:
    """POST Accounts/{Sid}: FriendlyName. A main account cannot suspend or close itself over the API."""
    status = params.get("Status")
    if status is not None and status != account.status:
        raise _bad_request(NOT_EMULATED, "Changing an account's Status is not emulated by the sandbox "
                                         "(main accounts only, no subaccounts)")
    if "FriendlyName" in params:
        account.friendly_name = params["FriendlyName"][:64] or account.friendly_name
        account.save(update_fields=["friendly_name", "date_updated"])
    return account


def sandbox_call_create(*, account: SandboxAccount, params: dict[str, str]) -> tuple[SandboxCall, str | None]:
    """POST Calls: queued, never dialled. With the SID of the account's number it is from (None
    for the magic number when the account does not hold it)."""
    to, from_, url = params.get("To", "").strip(), params.get("From", "").strip(), params.get("Url", "").strip()
    twiml, application_sid = params.get("Twiml", "").strip(), params.get("ApplicationSid", "").strip()
    hit = magic.magic_error("Calls", {"From": from_, "To": to})
    if hit:
        raise _bad_request(*hit)
    if not to:
        raise _bad_request(21201, "No 'To' number is specified")
    if not from_:
        raise _bad_request(21213, "No 'From' number is specified")
    caller = account.numbers.filter(phone_number=from_).values_list("sid", flat=True).first()
    if from_ != magic.MAGIC_OK_NUMBER and caller is None:
        raise _bad_request(21210, f"The source phone number provided, {from_}, is not yet verified for your "
                                  "account.")
    if not _valid_e164(to):
        raise _bad_request(21211, f"The 'To' number {to} is not a valid phone number.")
    # What the call runs, in Twilio's order: an application's URLs win over Url, and Url over Twiml.
    if application_sid:
        if not re.fullmatch(r"AP[0-9a-fA-F]{32}", application_sid):
            raise _bad_request(21220, f"ApplicationSid {application_sid} is invalid")
        url = twiml = ""
    elif url:
        if not URL.match(url):
            raise _bad_request(21205, "Url parameter is not a valid URL")
        twiml = ""
    elif twiml:
        _check_twiml(twiml)
    else:
        raise _bad_request(21205, "A 'Url', 'Twiml' or 'ApplicationSid' parameter is required")
    method = (params.get("Method") or "POST").upper()
    callback_method = (params.get("StatusCallbackMethod") or "POST").upper()
    if method not in METHODS or callback_method not in METHODS:
        raise _bad_request(21403, "Method must be GET or POST")
    call = SandboxCall.objects.create(
        sid=new_sid("CA"), account=account, to=to, from_number=from_, url=url, method=method, twiml=twiml,
        application_sid=application_sid, status_callback=params.get("StatusCallback", ""),
        status_callback_method=callback_method)
    return call, caller


MAX_TWIML = 4000  # Twilio's limit on inline TwiML


def _check_twiml(twiml: str) -> None:
    """Inline TwiML must be a <Response> document (no DTD: entities are never expanded here)."""
    if len(twiml) > MAX_TWIML:
        raise _bad_request(INVALID_PARAMETER, f"Twiml is longer than {MAX_TWIML} characters")
    try:
        if "<!" in twiml:
            raise ET.ParseError("declarations are not allowed")
        root = ET.fromstring(twiml)
    except ET.ParseError as exc:
        raise _bad_request(12100, f"Twiml is not a valid TwiML document: {exc}") from None
    if root.tag != "Response":
        raise _bad_request(12100, "Twiml must be a <Response> document")


FINAL_CALL_STATUSES = ("completed", "canceled", "busy", "failed", "no-answer")
CALL_UPDATE_PARAMS = frozenset({"Url", "Method", "Twiml", "Status", "StatusCallback", "StatusCallbackMethod"})


def sandbox_call_update(*, call: SandboxCall, params: dict[str, str]) -> SandboxCall:
    """POST Calls/{Sid}: hang up (Status=completed; canceled only before it is answered), or redirect a
    live call to new TwiML (Url, else Twiml), which is kept on the call as what it runs now."""
    status = params.get("Status", "")
    redirect_url, twiml = params.get("Url", "").strip(), params.get("Twiml", "").strip()
    if call.status in FINAL_CALL_STATUSES:
        raise _bad_request(21220, "Call is not in-progress. Cannot redirect.")
    if status and status not in ("completed", "canceled"):
        raise _bad_request(INVALID_PARAMETER, "Status must be completed or canceled")
    method = (params.get("Method") or call.method).upper()
    callback_method = (params.get("StatusCallbackMethod") or call.status_callback_method).upper()
    if method not in METHODS or callback_method not in METHODS:
        raise _bad_request(21403, "Method must be GET or POST")
    if "StatusCallback" in params:
        callback = params["StatusCallback"].strip()
        if callback and not URL.match(callback):
            raise _bad_request(21609, f"StatusCallback is not a valid URL: {callback}")
        call.status_callback = callback
    call.status_callback_method = callback_method
    if status:
        if status == "canceled" and call.status not in ("queued", "ringing"):
            raise _bad_request(21220, "Only a queued or ringing call can be canceled; hang up with completed")
        call.status, call.end_time = status, datetime.now(UTC)
        if call.recording_sid and call.recording_status in RECORDING_STATUSES:
            call.recording_status = "completed"
    elif redirect_url:
        if not URL.match(redirect_url):
            raise _bad_request(21205, "Url parameter is not a valid URL")
        call.url, call.method, call.twiml, call.application_sid = redirect_url, method, "", ""
    elif twiml:
        _check_twiml(twiml)
        call.url, call.twiml, call.application_sid = "", twiml, ""
    elif "Method" in params:
        raise _bad_request(21205, "Method needs a Url to fetch")
    call.save()
    return call


def sandbox_call_delete(*, call: SandboxCall) -> None:
    """DELETE Calls/{Sid}: Twilio deletes only calls that are over."""
    if call.status not in FINAL_CALL_STATUSES:
        raise _bad_request(20009, "Cannot delete a call that is not over")
    call.delete()


def sandbox_call_recording_delete(*, call: SandboxCall) -> None:
    """DELETE a call's recording: gone, audio and all (a new <Start><Recording> makes a new one)."""
    call.recording_sid, call.recording_status = "", ""
    call.save(update_fields=["recording_sid", "recording_status", "date_updated"])


RECORDING_STATUSES = ("in-progress", "paused", "stopped")


def sandbox_call_recording_start(*, call: SandboxCall) -> SandboxCall:
    """What Twilio does when a call's TwiML says <Start><Recording>."""
    if not call.recording_sid:
        call.recording_sid = new_sid("RE")
    call.recording_status = "in-progress"
    call.save(update_fields=["recording_sid", "recording_status", "date_updated"])
    return call


def sandbox_call_recording_update(*, account: SandboxAccount, call_sid: str, recording_sid: str,
                                  params: dict[str, str]) -> SandboxCall:
    """Pause, resume or stop a call's recording (`Twilio.CURRENT` is the one in progress)."""
    call = account.calls.filter(sid=call_sid).first()
    if call is None or not call.recording_sid or recording_sid not in ("Twilio.CURRENT", call.recording_sid):
        raise TwilioApiError(404, 20404, not_found_message(
            account_path(account.sid, f"/Calls/{call_sid}/Recordings/{recording_sid}.json")))
    status = params.get("Status", "")
    if status not in RECORDING_STATUSES:
        raise _bad_request(INVALID_PARAMETER, f"Status must be one of {', '.join(RECORDING_STATUSES)}")
    call.recording_status = status
    call.save(update_fields=["recording_status", "date_updated"])
    return call


# ---------------------------------------------------------------- what a simulated exchange leaves behind

def sandbox_call_complete(*, call: SandboxCall) -> SandboxCall:
    """The simulated caller has hung up: the call is over."""
    call.status = "completed"
    call.save(update_fields=["status", "date_updated"])
    return call


def sandbox_reply_record(*, account: SandboxAccount, to: str, from_: str, body: str,
                         status_callback: str = "") -> SandboxMessage:
    """A reply the account sent because a webhook answered with TwiML <Message>: delivered at once."""
    return SandboxMessage.objects.create(
        sid=new_sid("SM"), account=account, to=to, from_number=from_, body=body,
        num_segments=segments(body) if body else 1, status="delivered", direction="outbound-reply",
        status_callback=status_callback)


def sandbox_message_deliver(*, message: SandboxMessage) -> SandboxMessage:
    """The handset got the text (queued or accepted → delivered)."""
    message.status = "delivered"
    message.save(update_fields=["status", "date_updated"])
    return message
