"""The pure half of verify: one number's provider configuration against what we expect.

No database and no provider calls: `phones.verify.services` fetches, these functions judge. Each
webhook gets one reason code:

- ok: the provider calls our URL with our method
- not_set: no URL at the provider
- url_mismatch: another URL (a dashboard edit, an old PUBLIC_BASE_URL)
- wrong_http_method: our URL, called with GET instead of POST (or the other way)
- overridden: the URL is ignored because a SIP trunk, a TwiML application or a messaging service
  takes the traffic; re-pointing URLs cannot fix that, so repair leaves it to a person
- trunk_mismatch (voice): the number is on another SIP trunk at the provider than the one recorded
  here (or on one when none is recorded, or on none when one is). The recorded trunk taking the
  calls is expected: ok. Repair puts the number on the recorded trunk (or takes it off).
"""
from __future__ import annotations

from typing import Any

from providers.base import MessagingService, ProvisionedNumber, Webhooks

OK = "ok"
NOT_SET = "not_set"
URL_MISMATCH = "url_mismatch"
WRONG_METHOD = "wrong_http_method"
OVERRIDDEN = "overridden"
TRUNK_MISMATCH = "trunk_mismatch"
REASONS = (OK, NOT_SET, URL_MISMATCH, WRONG_METHOD, OVERRIDDEN, TRUNK_MISMATCH)
# What repair fixes (re-pointing the URLs; the trunk assignment).
DRIFT = (NOT_SET, URL_MISMATCH, WRONG_METHOD, TRUNK_MISMATCH)
WEBHOOKS = ("voice", "sms", "statusCallback")

# A2P 10DLC: what carriers require before a US long code sends application-to-person SMS.
A2P_REGISTERED, A2P_PENDING, A2P_FAILED = "registered", "pending", "failed"
A2P_NOT_REGISTERED, A2P_NOT_APPLICABLE, UNKNOWN = "not_registered", "not_applicable", "unknown"


def _override(kind: str, sid: str) -> dict[str, str]:
    return {"type": kind, "sid": sid}


def webhook_check(*, expected_url: str, expected_method: str, actual_url: str, actual_method: str,
                  overridden_by: dict[str, str] | None = None) -> dict[str, Any]:
    # Twilio treats an unset method as POST.
    actual_method = (actual_method or "POST").upper()
    if overridden_by:
        status = OVERRIDDEN
    elif not actual_url:
        status = NOT_SET
    elif actual_url != expected_url:
        status = URL_MISMATCH
    elif actual_method != expected_method.upper():
        status = WRONG_METHOD
    else:
        status = OK
    return {"status": status, "expected": {"url": expected_url, "method": expected_method.upper()},
            "actual": {"url": actual_url, "method": actual_method}, "overriddenBy": overridden_by}


def _voice_override(owned: ProvisionedNumber) -> dict[str, str] | None:
    # A trunk takes the call before any application or URL; an application before the URL.
    if owned.trunk_sid:
        return _override("trunk", owned.trunk_sid)
    if owned.voice_application_sid:
        return _override("application", owned.voice_application_sid)
    return None


def _sms_override(owned: ProvisionedNumber, service: MessagingService | None) -> dict[str, str] | None:
    if service is not None and not service.use_inbound_webhook_on_number:
        return _override("messaging_service", service.sid)
    if owned.sms_application_sid:
        return _override("application", owned.sms_application_sid)
    return None


def _trunk_judged(check: dict[str, Any], *, expected_trunk: str, actual_trunk: str) -> dict[str, Any]:
    """The voice check, with the SIP trunk judged: the recorded trunk taking the calls is ok, any
    other trunk (or none, when one is recorded) is a mismatch."""
    if expected_trunk != actual_trunk:
        return {**check, "status": TRUNK_MISMATCH}
    if expected_trunk:
        return {**check, "status": OK}
    return check


def webhook_checks(owned: ProvisionedNumber, expected: Webhooks, service: MessagingService | None,
                   expected_trunk: str = "") -> dict[str, dict[str, Any]]:
    """`expected_trunk`: the SID of the SIP trunk recorded for the number ("" for none)."""
    voice_override = _voice_override(owned)
    voice = webhook_check(expected_url=expected.voice_url, expected_method=expected.voice_method,
                          actual_url=owned.voice_url, actual_method=owned.voice_method, overridden_by=voice_override)
    status_callback = webhook_check(expected_url=expected.status_callback,
                                    expected_method=expected.status_callback_method,
                                    actual_url=owned.status_callback, actual_method=owned.status_callback_method,
                                    overridden_by=voice_override)
    return {
        "voice": _trunk_judged(voice, expected_trunk=expected_trunk, actual_trunk=owned.trunk_sid),
        "sms": webhook_check(expected_url=expected.sms_url, expected_method=expected.sms_method,
                             actual_url=owned.sms_url, actual_method=owned.sms_method,
                             overridden_by=_sms_override(owned, service)),
        # Call status goes to the application's (or trunk's) callback when one takes the call: the
        # recorded trunk's is expected.
        "statusCallback": status_callback if not (expected_trunk and owned.trunk_sid == expected_trunk)
        else {**status_callback, "status": OK},
    }


def outcome(checks: dict[str, dict[str, Any]]) -> str:
    statuses = {check["status"] for check in checks.values()}
    if statuses & set(DRIFT):
        return "drift"
    if OVERRIDDEN in statuses:
        return "overridden"
    return OK


def _a2p(campaigns: tuple, *, applicable: bool) -> dict[str, Any]:
    if not applicable:
        return {"status": A2P_NOT_APPLICABLE, "campaignSid": None, "campaignStatus": None}
    if not campaigns:
        return {"status": A2P_NOT_REGISTERED, "campaignSid": None, "campaignStatus": None}
    # A service with several campaigns is as good as its best one.
    rank = {"VERIFIED": 0, "FAILED": 2}
    campaign = min(campaigns, key=lambda c: rank.get(c.status, 1))
    status = {"VERIFIED": A2P_REGISTERED, "FAILED": A2P_FAILED}.get(campaign.status, A2P_PENDING)
    return {"status": status, "campaignSid": campaign.sid, "campaignStatus": campaign.status}


def sms_registration(*, country: str, number_type: str, sms_capable: bool, service: MessagingService | None,
                     expected_service_sid: str) -> dict[str, Any]:
    """Messaging-service membership, and A2P 10DLC campaign status for US long codes.

    `expected_service_sid` is the connection's configured messaging service ("" when none).
    Toll-free numbers have their own verification, not 10DLC, so A2P does not apply to them.
    """
    actual = service.sid if service else None
    if not sms_capable:
        membership = A2P_NOT_APPLICABLE
    elif expected_service_sid:
        membership = "member" if actual == expected_service_sid else ("other_service" if actual else "not_member")
    else:
        membership = "member" if actual else "none_configured"
    applicable = sms_capable and country == "US" and number_type != "tollFree"
    return {
        "smsCapable": sms_capable,
        "messagingService": {"status": membership, "expected": expected_service_sid or None, "actual": actual},
        "a2p": _a2p(service.campaigns if service else (), applicable=applicable),
    }


def registration_unknown(message: str) -> dict[str, Any]:
    return {"smsCapable": None, "messagingService": {"status": UNKNOWN, "expected": None, "actual": None},
            "a2p": {"status": UNKNOWN, "campaignSid": None, "campaignStatus": None}, "error": message}
