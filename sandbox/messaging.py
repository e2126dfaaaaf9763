"""The emulator's slice of Twilio's Messaging API v1 (messaging.twilio.com): messaging services,
the numbers in them, and their US A2P 10DLC campaigns (Compliance/Usa2p). Read-only over the
wire; tests, the benchmark and staff set up state with the `sandbox_messaging_*` services here.

v1 lists use the `meta` envelope with absolute URLs, unlike 2010-04-01's relative `*_uri`s.
"""
from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from twilio.base.serialize import iso8601_datetime as _iso

from sandbox.models import (
    SandboxA2PCampaign,
    SandboxAccount,
    SandboxMessagingService,
    SandboxNumber,
    SandboxServiceNumber,
    new_sid,
)
from sandbox.twilio_json import not_found
from sandbox.views import twilio_endpoint, v1_account, v1_listing

MESSAGING_ROOT = "https://messaging.twilio.com/v1"
FAULT_RESOURCE = "MessagingServices"


# ---------------------------------------------------------------- writes (for tests, bench, staff)

def sandbox_messaging_service_create(*, account: SandboxAccount, friendly_name: str,
                                     use_inbound_webhook_on_number: bool = False) -> SandboxMessagingService:
    return SandboxMessagingService.objects.create(
        sid=new_sid("MG"), account=account, friendly_name=friendly_name[:64],
        use_inbound_webhook_on_number=use_inbound_webhook_on_number)


def sandbox_messaging_number_add(*, service: SandboxMessagingService, number: SandboxNumber) -> SandboxServiceNumber:
    """Put a number in a service's sender pool, moving it out of any other (one service per number)."""
    if number.account_id != service.account_id:
        raise ValueError("the number and the service belong to different accounts")
    membership, _ = SandboxServiceNumber.objects.update_or_create(number=number, defaults={"service": service})
    return membership


def sandbox_a2p_campaign_set(*, service: SandboxMessagingService, status: str,
                             use_case: str = "MIXED") -> SandboxA2PCampaign:
    """The service's campaign, created or moved to `status` (a service registers one campaign)."""
    if status not in SandboxA2PCampaign.Status.values:
        raise ValueError(f"unknown campaign status {status!r}")
    campaign = service.campaigns.first()
    if campaign is None:
        return SandboxA2PCampaign.objects.create(sid=new_sid("QE"), service=service, campaign_status=status,
                                                 use_case=use_case)
    campaign.campaign_status, campaign.use_case = status, use_case
    campaign.save()
    return campaign


# ---------------------------------------------------------------- wire format

def service_json(service: SandboxMessagingService) -> dict[str, Any]:
    """`service` as `_services` reads it (with `us_app_to_person_registered`)."""
    url = f"{MESSAGING_ROOT}/Services/{service.sid}"
    return {
        "account_sid": service.account.sid, "sid": service.sid, "friendly_name": service.friendly_name,
        "date_created": _iso(service.date_created), "date_updated": _iso(service.date_updated),
        "inbound_request_url": None, "inbound_method": "POST",
        "fallback_url": None, "fallback_method": "POST", "status_callback": None, "sticky_sender": True,
        "mms_converter": True, "smart_encoding": True, "scan_message_content": "inherit",
        "fallback_to_long_code": True, "area_code_geomatch": True, "synchronous_validation": True,
        "validity_period": 14400, "usecase": "mixed",
        "us_app_to_person_registered": service.us_app_to_person_registered,
        "use_inbound_webhook_on_number": service.use_inbound_webhook_on_number, "url": url,
        "links": {name: f"{url}/{path}" for name, path in (
            ("phone_numbers", "PhoneNumbers"), ("short_codes", "ShortCodes"), ("alpha_senders", "AlphaSenders"),
            ("us_app_to_person", "Compliance/Usa2p"),
            ("us_app_to_person_usecases", "Compliance/Usa2p/Usecases"))},
    }


def service_number_json(membership: SandboxServiceNumber) -> dict[str, Any]:
    number = membership.number
    capabilities = [name for name, on in (("Voice", number.voice), ("SMS", number.sms), ("MMS", number.mms)) if on]
    return {
        "sid": number.sid, "account_sid": membership.service.account.sid, "service_sid": membership.service.sid,
        "date_created": _iso(membership.date_created), "date_updated": _iso(membership.date_created),
        "phone_number": number.phone_number, "country_code": number.iso_country, "capabilities": capabilities,
        "url": f"{MESSAGING_ROOT}/Services/{membership.service.sid}/PhoneNumbers/{number.sid}",
    }


def campaign_json(campaign: SandboxA2PCampaign) -> dict[str, Any]:
    service = campaign.service
    return {
        "sid": campaign.sid, "account_sid": service.account.sid, "brand_registration_sid": None,
        "messaging_service_sid": service.sid, "description": "", "message_samples": [],
        "us_app_to_person_usecase": campaign.use_case, "has_embedded_links": False, "has_embedded_phone": False,
        "subscriber_opt_in": True, "age_gated": False, "direct_lending": False,
        "campaign_status": campaign.campaign_status,
        "campaign_id": f"C{campaign.sid[-6:].upper()}" if campaign.campaign_status == "VERIFIED" else None,
        "is_externally_registered": False, "rate_limits": {}, "message_flow": "", "opt_in_message": None,
        "opt_out_message": None, "help_message": None, "opt_in_keywords": None, "opt_out_keywords": None,
        "help_keywords": None, "date_created": _iso(campaign.date_created),
        "date_updated": _iso(campaign.date_updated), "mock": True, "errors": [],
        "privacy_policy_url": None, "terms_and_conditions_url": None,
        "url": f"{MESSAGING_ROOT}/Services/{service.sid}/Compliance/Usa2p/{campaign.sid}",
    }


messaging_endpoint = twilio_endpoint(FAULT_RESOURCE, ("GET",), account_of=v1_account)


def _service(account: SandboxAccount, sid: str) -> SandboxMessagingService | None:
    return account.messaging_services.filter(sid=sid).first()


@messaging_endpoint
def services_list(request: HttpRequest, account: SandboxAccount) -> HttpResponse:
    found = account.messaging_services.annotate(us_app_to_person_registered=Exists(
        SandboxA2PCampaign.objects.filter(service=OuterRef("pk"), campaign_status=SandboxA2PCampaign.Status.VERIFIED)))
    return v1_listing(request, found, root=MESSAGING_ROOT, key="services", path="/Services", render=service_json)


@messaging_endpoint
def service_numbers(request: HttpRequest, account: SandboxAccount, service_sid: str) -> HttpResponse:
    service = _service(account, service_sid)
    if service is None:
        return not_found(f"/v1/Services/{service_sid}/PhoneNumbers")
    found = service.numbers.select_related("number")
    return v1_listing(request, found, root=MESSAGING_ROOT, key="phone_numbers",
                      path=f"/Services/{service_sid}/PhoneNumbers", render=service_number_json)


@messaging_endpoint
def service_campaigns(request: HttpRequest, account: SandboxAccount, service_sid: str) -> HttpResponse:
    service = _service(account, service_sid)
    if service is None:
        return not_found(f"/v1/Services/{service_sid}/Compliance/Usa2p")
    found = service.campaigns.all()
    return v1_listing(request, found, root=MESSAGING_ROOT, key="compliance",
                      path=f"/Services/{service_sid}/Compliance/Usa2p", render=campaign_json)
