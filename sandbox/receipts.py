"""The carrier's side of bulk sending, as Twilio plays it: each sender's rate (a sender that goes
faster is refused with 20429, HTTP 429), and delivery receipts for the texts it accepted, with a
configurable mix of failures.

Rates: a long code 1 msg/s, a toll-free number 3 msg/s, a messaging service
SANDBOX_MESSAGING_SERVICE_RATE. A sender is refused when, counting this text, more than
rate × 1.1 + SANDBOX_SENDER_BURST texts left it in the last second: a sender that keeps to its rate
is never refused, one that does not is, whichever worker it sends from (the count is in the
sandbox's tables); the burst lets a person's few texts in a row through, as a carrier's queue would.

Receipts (`sandbox_receipts_post`, run by beat every SANDBOX_RECEIPT_INTERVAL_SECONDS and by tests):
each accepted or queued text with a status callback becomes `sent`, then `delivered`, or
`undelivered` (30003, unreachable handset) with probability SANDBOX_UNDELIVERED_RATE, or `failed`
(30007, carrier filtering) with probability SANDBOX_FAILED_RATE; each step is posted to the text's
StatusCallback, signed with the account's auth token.
"""
from __future__ import annotations

import math
import random
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.test import RequestFactory
from django.urls import Resolver404, resolve
from django.utils import timezone
from twilio.request_validator import RequestValidator

from sandbox import inventory
from sandbox.models import SandboxAccount, SandboxMessage
from sandbox.twilio_json import TwilioApiError

TOO_MANY_REQUESTS = 20429
RATES = {inventory.TOLL_FREE: 3.0}
UNDELIVERED, FAILED = ("undelivered", "30003"), ("failed", "30007")


def sender_rate(account: SandboxAccount, from_: str, service_sid: str) -> float:
    if service_sid:
        return settings.SANDBOX_MESSAGING_SERVICE_RATE
    number = account.numbers.filter(phone_number=from_).values_list("number_type", flat=True).first()
    return RATES.get(number or "", 1.0)


def sender_rate_check(*, account: SandboxAccount, from_: str, service_sid: str) -> None:
    """Refuse the text with 20429 when its sender is over its rate."""
    rate = sender_rate(account, from_, service_sid)
    since = timezone.now() - timedelta(seconds=1)
    recent = account.messages.filter(date_created__gte=since, direction="outbound-api")
    recent = recent.filter(messaging_service_sid=service_sid) if service_sid else recent.filter(from_number=from_)
    if recent.count() + 1 > math.floor(rate * 1.1) + settings.SANDBOX_SENDER_BURST:
        raise TwilioApiError(429, TOO_MANY_REQUESTS, f"Too Many Requests: {service_sid or from_} is sending faster "
                                                     f"than its {rate:g} messages per second")


def _final_status() -> tuple[str, str]:
    roll = random.random()
    if roll < settings.SANDBOX_UNDELIVERED_RATE:
        return UNDELIVERED
    if roll < settings.SANDBOX_UNDELIVERED_RATE + settings.SANDBOX_FAILED_RATE:
        return FAILED
    return "delivered", ""


def _post_signed(account: SandboxAccount, url: str, params: dict[str, str]) -> int | None:
    """POST `params` to `url` when it is one of ours (in-process, signed as Twilio signs)."""
    parts = urlsplit(url)
    try:
        match = resolve(parts.path)
    except Resolver404:
        return None
    params = {"AccountSid": account.sid, **params}
    signature = RequestValidator(account.auth_token).compute_signature(url, params)
    request = RequestFactory().post(parts.path + (f"?{parts.query}" if parts.query else ""), params,
                                    HTTP_X_TWILIO_SIGNATURE=signature, secure=parts.scheme == "https")
    return match.func(request, *match.args, **match.kwargs).status_code


def sandbox_receipts_post(*, limit: int = 500, older_than: float = 0.0) -> int:
    """Deliver (or fail) up to `limit` accepted/queued API texts and post their receipts; how many."""
    cutoff = timezone.now() - timedelta(seconds=older_than)
    with transaction.atomic():
        pending = list(SandboxMessage.objects.select_for_update(skip_locked=True).select_related("account")
                       .filter(status__in=("accepted", "queued"), direction="outbound-api", date_created__lte=cutoff)
                       .order_by("pk")[:limit])
        outcomes = {m.pk: _final_status() for m in pending}
        for message in pending:
            message.status = outcomes[message.pk][0]
        SandboxMessage.objects.bulk_update(pending, ["status"])
    for message in pending:
        if not message.status_callback:
            continue
        status, error = outcomes[message.pk]
        steps = [("sent", "")] + ([(status, error)])
        for step, code in steps:
            params = {"MessageSid": message.sid, "SmsSid": message.sid, "MessageStatus": step, "SmsStatus": step,
                      "To": message.to, "From": message.from_number, "NumSegments": str(message.num_segments),
                      "ApiVersion": "2010-04-01"}
            if code:
                params["ErrorCode"] = code
            _post_signed(message.account, message.status_callback, params)
    return len(pending)
