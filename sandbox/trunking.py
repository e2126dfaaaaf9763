"""The emulator's slice of Twilio's Elastic SIP Trunking v1 (trunking.twilio.com): trunks with their
origination URLs (read over the wire), and the numbers on a trunk (list, add, remove). A number's
trunk is `SandboxNumber.trunk_sid`, which IncomingPhoneNumbers shows as `trunk_sid`, as Twilio does.

Trunks are made by `sandbox_trunk_create` (the `sandbox_trunk` command, the demo seed, tests);
Twilio's own POST /v1/Trunks is not emulated. v1 lists use the `meta` envelope with absolute URLs.
"""
from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from twilio.base.serialize import iso8601_datetime as _iso

from sandbox.models import SandboxAccount, SandboxNumber, SandboxTrunk, new_sid
from sandbox.twilio_json import INVALID_PARAMETER, TwilioApiError, no_content, not_found
from sandbox.views import twilio_endpoint, v1_account, v1_listing, v1_meta

TRUNKING_ROOT = "https://trunking.twilio.com/v1"
FAULT_RESOURCE = "Trunks"


# ---------------------------------------------------------------- writes (for the command, seed, tests)

def sandbox_trunk_create(*, account: SandboxAccount, friendly_name: str, domain_prefix: str = "",
                         sip_urls: list[str] | tuple[str, ...] = ()) -> SandboxTrunk:
    """A trunk with a `<prefix>.pstn.twilio.com` termination domain and one origination URL per
    `sip_urls` entry (priority and weight 10, in the order given)."""
    trunk_sid = new_sid("TK")
    prefix = domain_prefix or f"sandbox-{trunk_sid[-8:]}"
    urls = [{"sid": new_sid("OU"), "sip_url": url, "priority": 10 * (index + 1), "weight": 10, "enabled": True,
             "friendly_name": f"{friendly_name[:50]} {index + 1}"} for index, url in enumerate(sip_urls)]
    return SandboxTrunk.objects.create(sid=trunk_sid, account=account, friendly_name=friendly_name[:64],
                                       domain_name=f"{prefix}.pstn.twilio.com", origination_urls=urls)


def sandbox_trunk_numbers(trunk: SandboxTrunk):
    """The account's numbers on the trunk."""
    return trunk.account.numbers.filter(trunk_sid=trunk.sid)


def trunk_taking_calls(number: SandboxNumber) -> str:
    """Where a call to `number` goes when it is on a trunk ("" when it is not): the trunk's first
    enabled origination URL (or its domain, with none), as the simulator reports it."""
    trunk = number.account.trunks.filter(sid=number.trunk_sid).first() if number.trunk_sid else None
    if trunk is None:
        return ""
    urls = sorted((url for url in trunk.origination_urls if url["enabled"]), key=lambda url: url["priority"])
    return f"sent to SIP trunk {trunk.friendly_name} ({urls[0]['sip_url'] if urls else trunk.domain_name})"


# ---------------------------------------------------------------- wire format

def trunk_json(trunk: SandboxTrunk) -> dict[str, Any]:
    url = f"{TRUNKING_ROOT}/Trunks/{trunk.sid}"
    return {
        "sid": trunk.sid, "account_sid": trunk.account.sid, "domain_name": trunk.domain_name or None,
        "disaster_recovery_method": "POST", "disaster_recovery_url": None, "friendly_name": trunk.friendly_name,
        "secure": False, "cnam_lookup_enabled": False, "symmetric_rtp_enabled": False,
        "recording": {"mode": "do-not-record", "trim": "do-not-trim"}, "transfer_mode": "disable-all",
        "transfer_caller_id": "from-transferee", "auth_type": "", "auth_type_set": [],
        "date_created": _iso(trunk.date_created), "date_updated": _iso(trunk.date_updated), "url": url,
        "links": {name: f"{url}/{path}" for name, path in (
            ("origination_urls", "OriginationUrls"), ("credential_lists", "CredentialLists"),
            ("ip_access_control_lists", "IpAccessControlLists"), ("phone_numbers", "PhoneNumbers"))},
    }


def origination_url_json(trunk: SandboxTrunk, url: dict[str, Any]) -> dict[str, Any]:
    return {
        "account_sid": trunk.account.sid, "sid": url["sid"], "trunk_sid": trunk.sid, "weight": url["weight"],
        "enabled": url["enabled"], "sip_url": url["sip_url"], "friendly_name": url["friendly_name"],
        "priority": url["priority"], "date_created": _iso(trunk.date_created),
        "date_updated": _iso(trunk.date_updated),
        "url": f"{TRUNKING_ROOT}/Trunks/{trunk.sid}/OriginationUrls/{url['sid']}",
    }


def trunk_number_json(number: SandboxNumber) -> dict[str, Any]:
    account_sid = number.account.sid
    return {
        "sid": number.sid, "account_sid": account_sid, "date_created": _iso(number.date_created),
        "date_updated": _iso(number.date_updated), "friendly_name": number.friendly_name,
        "phone_number": number.phone_number, "api_version": "2010-04-01",
        "voice_caller_id_lookup": number.voice_caller_id_lookup, "voice_url": number.voice_url or None,
        "voice_method": number.voice_method, "voice_fallback_url": number.voice_fallback_url or None,
        "voice_fallback_method": number.voice_fallback_method, "status_callback": number.status_callback or None,
        "status_callback_method": number.status_callback_method,
        "voice_application_sid": number.voice_application_sid or None, "trunk_sid": number.trunk_sid or None,
        "sms_url": number.sms_url or None, "sms_method": number.sms_method,
        "sms_fallback_url": number.sms_fallback_url or None, "sms_fallback_method": number.sms_fallback_method,
        "sms_application_sid": number.sms_application_sid or None, "address_requirements": "none", "beta": False,
        "url": f"{TRUNKING_ROOT}/Trunks/{number.trunk_sid}/PhoneNumbers/{number.sid}",
        "capabilities": {"voice": number.voice, "sms": number.sms, "mms": number.mms},
        "links": {"phone_number": f"https://api.twilio.com/2010-04-01/Accounts/{account_sid}/"
                                  f"IncomingPhoneNumbers/{number.sid}"},
    }


def _trunk(account: SandboxAccount, sid: str) -> SandboxTrunk | None:
    return account.trunks.filter(sid=sid).first()


@twilio_endpoint(FAULT_RESOURCE, ("GET",), account_of=v1_account)
def trunks_list(request: HttpRequest, account: SandboxAccount) -> HttpResponse:
    return v1_listing(request, account.trunks.select_related("account"), root=TRUNKING_ROOT, key="trunks",
                      path="/Trunks", render=trunk_json)


@twilio_endpoint(FAULT_RESOURCE, ("GET",), account_of=v1_account)
def trunk_detail(request: HttpRequest, account: SandboxAccount, sid: str) -> HttpResponse:
    trunk = _trunk(account, sid)
    return JsonResponse(trunk_json(trunk)) if trunk else not_found(f"/v1/Trunks/{sid}")


@twilio_endpoint(FAULT_RESOURCE, ("GET",), account_of=v1_account)
def origination_urls(request: HttpRequest, account: SandboxAccount, trunk_sid: str) -> HttpResponse:
    trunk = _trunk(account, trunk_sid)
    if trunk is None:
        return not_found(f"/v1/Trunks/{trunk_sid}/OriginationUrls")
    page = _short_page(request, trunk.origination_urls)
    return JsonResponse({"origination_urls": [origination_url_json(trunk, url) for url in page["items"]],
                         "meta": v1_meta(TRUNKING_ROOT, f"/Trunks/{trunk_sid}/OriginationUrls",
                                         key="origination_urls", page=page["page"], page_size=page["page_size"],
                                         more=page["more"])})


def _short_page(request: HttpRequest, items: list) -> dict[str, Any]:
    """A page of a short stored list (a trunk's origination URLs): Page and PageSize only."""
    try:
        size = min(max(int(request.GET.get("PageSize") or 50), 1), 1000)
        page = max(int(request.GET.get("Page") or 0), 0)
    except ValueError:
        raise TwilioApiError(400, INVALID_PARAMETER, "Page and PageSize must be numbers")
    return {"items": items[page * size:(page + 1) * size], "page": page, "page_size": size,
            "more": len(items) > (page + 1) * size}


@twilio_endpoint(FAULT_RESOURCE, ("GET", "POST"), account_of=v1_account)
def trunk_numbers(request: HttpRequest, account: SandboxAccount, trunk_sid: str) -> HttpResponse:
    """GET: the numbers on the trunk. POST PhoneNumberSid: put one of the account's numbers on it (201),
    taking it off any other trunk (a number is on one trunk at most)."""
    trunk = _trunk(account, trunk_sid)
    if trunk is None:
        return not_found(f"/v1/Trunks/{trunk_sid}/PhoneNumbers")
    if request.method == "GET":
        return v1_listing(request, sandbox_trunk_numbers(trunk).select_related("account"), root=TRUNKING_ROOT,
                          key="phone_numbers", path=f"/Trunks/{trunk_sid}/PhoneNumbers", render=trunk_number_json)
    refused = sorted(set(request.POST) - {"PhoneNumberSid"})
    if refused:
        raise TwilioApiError(400, INVALID_PARAMETER, f"The sandbox does not emulate {', '.join(refused)}")
    number_sid = request.POST.get("PhoneNumberSid", "")
    if not number_sid:
        raise TwilioApiError(400, 20001, "Missing required parameter PhoneNumberSid in the post body")
    with transaction.atomic():
        number = account.numbers.select_for_update().filter(sid=number_sid).first()
        if number is None:
            raise TwilioApiError(404, 20404, f"The requested resource /v1/Trunks/{trunk_sid}/PhoneNumbers/"
                                             f"{number_sid} was not found")
        number.trunk_sid = trunk.sid
        number.save(update_fields=["trunk_sid", "date_updated"])
    return JsonResponse(trunk_number_json(number), status=201)


@twilio_endpoint(FAULT_RESOURCE, ("GET", "DELETE"), account_of=v1_account)
def trunk_number(request: HttpRequest, account: SandboxAccount, trunk_sid: str, sid: str) -> HttpResponse:
    trunk = _trunk(account, trunk_sid)
    number = sandbox_trunk_numbers(trunk).filter(sid=sid).first() if trunk else None
    if number is None:
        return not_found(f"/v1/Trunks/{trunk_sid}/PhoneNumbers/{sid}")
    if request.method == "GET":
        return JsonResponse(trunk_number_json(number))
    number.trunk_sid = ""
    number.save(update_fields=["trunk_sid", "date_updated"])
    return no_content()
