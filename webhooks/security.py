"""Who sent a webhook, and whether they really did.

Twilio names its account (`AccountSid`); the number is `To` (or `From`, for callbacks about calls
and texts we placed). Plivo sends no account id and Telnyx's ids are not our `account_id`, so
their webhooks are resolved by the number alone, among that provider's connections. Number,
connection, org and routing come in one statement (webhooks.lookup), or from the process's copy of
it (webhooks.lookup_cache). The signature is then checked by that connection's provider against
the URL the provider was given, built from PUBLIC_BASE_URL: the Host header is the caller's to
choose, so it proves nothing.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import HttpRequest

from core import bounds, parsers
from orgs.models import ProviderConnection
from phones.inbound import Webhook
from phones.models import PhoneNumber
from providers.base import PhoneProvider
from providers.registry import provider_for, types_with_webhooks
from webhooks import lookup, lookup_cache

logger = logging.getLogger(__name__)

# Two organisations may connect the same Twilio account; the signature is the same for both,
# and the number then tells them apart. More than a handful is a misconfiguration, not a case.
MAX_CONNECTIONS_PER_ACCOUNT = 5

# Building a provider decrypts the credentials and, for Twilio, constructs an SDK client: per
# process, once per version of the connection (a rotated secret or changed config is a new key).
_providers: dict[int, tuple[tuple[datetime, str, str], PhoneProvider]] = {}


def provider_cached(connection: ProviderConnection) -> PhoneProvider:
    version = (connection.updated_at, connection.secret_blob, json.dumps(connection.public_config, sort_keys=True))
    hit = _providers.get(connection.pk)
    if hit is not None and hit[0] == version:
        return hit[1]
    provider = provider_for(connection)
    _providers[connection.pk] = (version, provider)
    return provider


def public_url(request: HttpRequest) -> str:
    return f"{settings.PUBLIC_BASE_URL}{request.get_full_path()}"


def webhook_params(request: HttpRequest) -> dict[str, str]:
    """Form fields, or the fields of a JSON object body. A JSON body that is not an object, not
    JSON, nested too deep or holding a NUL character (core.parsers) is BadRequest: Django answers
    400 before anything is looked up or written."""
    if request.content_type == "application/json":
        try:
            body = parsers.loads(request.body or b"{}")
        except parsers.JSONError as exc:
            raise BadRequest(f"Webhook body is not usable JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise BadRequest("Webhook JSON body must be an object")
        return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
    # NUL removed (PostgreSQL stores no NUL in text); the signature is checked on the form as sent.
    return {bounds.text(key): bounds.text(request.POST.get(key, "")) for key in request.POST}


def number_lookup(*, e164s: list[str], account_id: str | None = None, connection_types: tuple[str, ...] = (),
                  flow: str = "") -> tuple[PhoneNumber | None, tuple | None]:
    """The org's live number: `flow` (its public id, in our own URL), else the first of `e164s`
    that is ours, on an active connection of the account or types given, with the lookup row it
    was built from. At most one query, none when this process has it (webhooks.lookup_cache)."""
    if flow:
        keys = [("flow", flow, account_id, connection_types)]
    else:
        keys = [("e164", e164, account_id, connection_types) for e164 in e164s if e164.startswith("+")]

    def load(missing: list[lookup_cache.Key]) -> dict[lookup_cache.Key, tuple]:
        if flow:
            rows = lookup.number_rows(public_id=flow, account_id=account_id, connection_types=connection_types)
            found = {flow: rows[0]} if rows else {}
        else:
            found = {lookup.row_e164(row): row for row in lookup.number_rows(
                e164s=[key[1] for key in missing], account_id=account_id, connection_types=connection_types)}
        return {key: found[key[1]] for key in missing if key[1] in found}

    row = lookup_cache.first(keys, load)
    return (lookup.number_from_row(row), row) if row is not None else (None, None)


def verify(request: HttpRequest, kind: str) -> Webhook | None:
    """The verified Twilio webhook, or None when it is not signed by the account it names (→ 403)."""
    params = webhook_params(request)
    if not params.get("AccountSid"):
        return None
    return verify_webhook(request, kind, provider="twilio", connection_types=types_with_webhooks("twilio"),
                          params=params,
                          e164s=[params.get("To", ""), params.get("From", "")], account_id=params["AccountSid"])


def verify_webhook(request: HttpRequest, kind: str, *, provider: str, connection_types: tuple[str, ...],
                   params: dict[str, str], e164s: list[str], account_id: str | None = None) -> Webhook | None:
    """A webhook about one of our numbers (the first of `e164s`, or the `flow` of our own URL) on
    a connection of `connection_types`, verified with that connection's key; None (→ 403) when it
    is not signed by it.

    With an `account_id` (Twilio's AccountSid) a webhook about no number of ours is checked
    against the account's connections; without one (Plivo, Telnyx) there is no key to check it
    with, and it is refused."""
    query = {key: request.GET.get(key, "") for key in request.GET}
    url = public_url(request)
    number, row = number_lookup(e164s=e164s, account_id=account_id, connection_types=connection_types,
                                flow=query.get("flow", ""))
    if number is not None:
        connections = [number.connection]
    elif account_id:
        connections = list(ProviderConnection.objects.select_related("org")
                           .filter(account_id=account_id, is_active=True,
                                   type__in=connection_types)[:MAX_CONNECTIONS_PER_ACCOUNT])
    else:
        logger.warning("rejected %s %s webhook: none of %s is a live number of a %s connection",
                       provider, kind, e164s, "/".join(connection_types))
        return None
    for connection in connections:
        if provider_cached(connection).validate_webhook(request, url):
            return Webhook(kind=kind, params=params, query=query, connection=connection, number=number,
                           provider=provider, resolved_from=row)
    logger.warning("rejected %s %s webhook for %s: bad or missing signature for %s", provider, kind,
                   number.e164 if number is not None else f"account {account_id}", url)
    return None
