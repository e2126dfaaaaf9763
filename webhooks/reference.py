"""The webhook benchmark's references (webhooks.management.commands.bench_webhooks)."""
from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from orgs.models import ProviderConnection
from phones.models import Message


def ping(request: HttpRequest) -> HttpResponse:
    """A bare view, the benchmark's baseline: what Django alone costs on this server."""
    return HttpResponse("pong", content_type="text/plain")


def _fixed_answer() -> str:
    response = MessagingResponse()
    response.message("Thanks, we got it.")
    return str(response)


REFERENCE_REPLY = _fixed_answer()  # built once: the answer is fixed

# AccountSid -> (org id, validator): the connection is looked up once per process. Only known
# accounts are kept (an unknown AccountSid is looked up again each time and refused).
_accounts: dict[str, tuple[int, RequestValidator]] = {}


def _account(account_sid: str) -> tuple[int, RequestValidator] | None:
    hit = _accounts.get(account_sid)
    if hit is None and account_sid:
        connection = (ProviderConnection.objects.filter(account_id=account_sid, is_active=True)
                      .order_by("pk").first())
        if connection is None:
            return None
        token = connection.credentials.get("authToken", "")
        if not token:
            return None
        hit = _accounts[account_sid] = (connection.org_id, RequestValidator(token))
    return hit


def forget_accounts() -> None:
    """Empty this process's copy of the connections (tests, the bench's query count)."""
    _accounts.clear()


@csrf_exempt
@require_POST
def reference_sms(request: HttpRequest) -> HttpResponse:
    """A minimal durable inbound-SMS webhook, the benchmark's reference: what a user of
    django-twilio would write. It exists for bench_webhooks (the inbound SMS webhook is measured
    against it) and is not used by any number: no routing, rules, opt-outs or threading.

    The twilio SDK's RequestValidator checks X-Twilio-Signature over PUBLIC_BASE_URL + the path and
    the form, with the auth token of the AccountSid's connection (looked up once per process);
    a bad signature is a 403 and writes nothing. The text is then inserted with the ORM (one
    statement, committed before answering; a repeated MessageSid inserts nothing), and the answer
    is a fixed TwiML reply."""
    params = {key: request.POST.get(key, "") for key in request.POST}
    account = _account(params.get("AccountSid", ""))
    url = f"{settings.PUBLIC_BASE_URL}{request.get_full_path()}"
    if account is None or not account[1].validate(url, params, request.headers.get("X-Twilio-Signature", "")):
        return HttpResponseForbidden("Invalid Twilio signature")
    org_id, _ = account
    segments = params.get("NumSegments", "")
    Message.objects.bulk_create([Message(
        org_id=org_id, direction=Message.Direction.INBOUND, from_number=params.get("From", ""),
        to_number=params.get("To", ""), body=params.get("Body", ""), provider_sid=params.get("MessageSid") or None,
        status="received", segments=int(segments) if segments.isdigit() else 1, created_at=timezone.now())],
        ignore_conflicts=True)
    return HttpResponse(REFERENCE_REPLY, content_type="text/xml; charset=utf-8")
