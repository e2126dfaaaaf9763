"""Who sent a webhook, and whether they really did.

The connection is found by the `AccountSid` the request names and the number by `To` (or
`From`, for callbacks about calls and texts we placed), both in one query; the signature is then
checked by that connection's provider against the URL Twilio was given, which we build from
PUBLIC_BASE_URL: the Host header is the caller's to choose, so it proves nothing.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.http import HttpRequest

from phones.models import PhoneNumber, PhoneRouting
from telephony.models import Org, ProviderConnection
from telephony.providers.registry import provider_for

logger = logging.getLogger(__name__)

# Two organisations may connect the same Twilio account; the signature is the same for both,
# and the number then tells them apart. More than a handful is a misconfiguration, not a case.
MAX_CONNECTIONS_PER_ACCOUNT = 5


@dataclass
class Webhook:
    """A verified webhook: its parameters, the connection it is for and, when known, our number."""

    kind: str
    params: dict[str, str]
    query: dict[str, str]
    connection: ProviderConnection
    number: PhoneNumber | None = None
    extra: dict = field(default_factory=dict)

    @property
    def org(self) -> Org:
        return self.number.org if self.number is not None else self.connection.org

    @property
    def routing(self) -> PhoneRouting | None:
        return getattr(self.number, "routing", None) if self.number is not None else None


def public_url(request: HttpRequest) -> str:
    return f"{settings.PUBLIC_BASE_URL}{request.get_full_path()}"


def webhook_params(request: HttpRequest) -> dict[str, str] | None:
    """Form fields, or the fields of a JSON object body; None when the body is neither."""
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return None
        if not isinstance(body, dict):
            return None
        return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
    return {key: request.POST.get(key, "") for key in request.POST}


def _our_number(account_sid: str, params: dict[str, str], query: dict[str, str]) -> PhoneNumber | None:
    """The org's number the webhook is about: `flow` in our own URL (an outbound call running a
    number's flow), else `To`, else `From`: one query, routing and connection included."""
    # order_by(): at most one live number per E.164, so the model's default sort is only cost.
    numbers = (PhoneNumber.objects.select_related("org", "connection", "routing").order_by()
               .filter(connection__account_id=account_sid, connection__is_active=True,
                       status__in=PhoneNumber.LIVE_STATUSES))
    if query.get("flow"):
        return numbers.filter(public_id=query["flow"]).first()
    candidates = [e164 for e164 in (params.get("To", ""), params.get("From", "")) if e164.startswith("+")]
    if not candidates:
        return None
    found = {number.e164: number for number in numbers.filter(e164__in=candidates)}
    return next((found[e164] for e164 in candidates if e164 in found), None)


def verify(request: HttpRequest, kind: str) -> Webhook | None:
    """The verified webhook, or None when it is not signed by the account it names (→ 403)."""
    params = webhook_params(request)
    if params is None:
        return None
    account_sid = params.get("AccountSid", "")
    if not account_sid:
        return None
    query = {key: request.GET.get(key, "") for key in request.GET}
    url = public_url(request)
    number = _our_number(account_sid, params, query)
    if number is not None:
        connections = [number.connection]
    else:
        connections = list(ProviderConnection.objects.select_related("org")
                           .filter(account_id=account_sid, is_active=True)[:MAX_CONNECTIONS_PER_ACCOUNT])
    for connection in connections:
        if provider_for(connection).validate_webhook(request, url):
            return Webhook(kind=kind, params=params, query=query, connection=connection, number=number)
    logger.warning("rejected %s webhook for account %s: bad or missing signature for %s", kind, account_sid, url)
    return None
