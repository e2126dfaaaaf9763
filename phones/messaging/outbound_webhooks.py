"""Signed POSTs to the org's own endpoints (automations, the SMS AI assistant).

Configured per org in `MessagingSettings` (staff admin, or `PUT /messaging/settings`). Each
request carries `X-Signature-SHA256: <hex HMAC-SHA256 of the raw body, keyed with the org's
signing secret>`, `X-Webhook-Id` (the same on every retry of one delivery, for the receiver to
de-duplicate) and `X-Webhook-Event`.

The URLs are the org's choice and the bodies carry its texts, so they are sent only through
core.outbound's guard: https to public addresses (or hosts the operator allows), checked when
connecting. A refused URL is never sent to: the setting is a 400, a delivery fails at once.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from typing import Any

import requests
from django.db import IntegrityError, transaction
from django.utils import timezone

from core import outbound as egress
from core.errors import DomainError
from orgs.models import Org
from phones.models import MessagingSettings, OutboundWebhookDelivery

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
SIGNATURE_HEADER = "X-Signature-SHA256"
NOT_CONFIGURED = "no automation webhook URL is configured for this org (MessagingSettings.automation_webhook_url)"
# What an ai-assistant rule texts back when the org has no assistant, or it keeps failing.
AI_FALLBACK_REPLY = "Thanks for your message. Someone from our team will get back to you shortly."


class DeliveryFailed(Exception):
    """The endpoint did not take it (transport error or non-2xx): worth retrying."""


class DeliveryRefused(DeliveryFailed):
    """The URL is not one we send to (core.outbound): nothing was sent, and retrying cannot help."""


def refusal(url: str) -> str:
    """Why `url` would be refused without asking DNS ("" when it would not be)."""
    try:
        egress.check_url(url)
    except egress.OutboundRefused as exc:
        return f"refused: {exc.message}"
    return ""


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str).encode()


def messaging_settings(org: Org) -> MessagingSettings | None:
    return MessagingSettings.objects.filter(org=org).first()


def ai_assistant_url(org_settings: MessagingSettings | None, *, org: Org, number: str) -> str:
    """The org's AI assistant URL; "" (logged: the sender gets AI_FALLBACK_REPLY) when there is none."""
    url = org_settings.ai_assistant_url if org_settings is not None else ""
    if not url:
        logger.error("ai-assistant rule on %s: no AI assistant URL is configured for org %s "
                     "(MessagingSettings.ai_assistant_url); sent the fallback reply", number, org.slug)
    elif reason := refusal(url):
        logger.error("ai-assistant rule on %s: the AI assistant URL of org %s is %s; sent the fallback reply",
                     number, org.slug, reason)
        return ""
    return url


def _get_or_create(org: Org) -> tuple[MessagingSettings, bool]:
    return MessagingSettings.objects.get_or_create(org=org, defaults={"signing_secret": secrets.token_hex(32)})


def messaging_settings_get_or_create(org: Org) -> MessagingSettings:
    """The org's settings, made (with a signing secret) on first use; nothing written after that."""
    return _get_or_create(org)[0]


def messaging_settings_update(*, org: Org, automation_webhook_url: str | None = None,
                              ai_assistant_url: str | None = None, rotate_secret: bool = False) -> MessagingSettings:
    """Set the org's endpoints (None leaves a value alone); a signing secret is made on first use.
    A URL the outbound guard would refuse is a 400 naming it."""
    for field, url in (("automationWebhookUrl", automation_webhook_url), ("aiAssistantUrl", ai_assistant_url)):
        if url and (reason := refusal(url)):
            raise DomainError(f"Not a URL this server sends to ({reason})", field=field)
    settings_, created = _get_or_create(org)
    if automation_webhook_url is not None:
        settings_.automation_webhook_url = automation_webhook_url
    if ai_assistant_url is not None:
        settings_.ai_assistant_url = ai_assistant_url
    if rotate_secret and not created:
        settings_.signing_secret = secrets.token_hex(32)
    settings_.save()
    return settings_


def post_signed(url: str, secret: str, payload: dict[str, Any], *, event: str, webhook_id: str) -> requests.Response:
    body = encode(payload)
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body),
               "X-Webhook-Id": webhook_id, "X-Webhook-Event": event}
    try:
        response = egress.post(url, data=body, headers=headers, timeout=TIMEOUT_SECONDS, allow_redirects=False)
    except egress.OutboundRefused as exc:
        raise DeliveryRefused(f"refused: {exc.message}") from exc
    except requests.RequestException as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"HTTP {response.status_code}")
    return response


def delivery_create(*, org: Org, org_settings: MessagingSettings | None, key: str, event: str,
                    payload: dict[str, Any]) -> OutboundWebhookDelivery | None:
    """Queue one signed POST to the org's automation URL (from `org_settings`, the org's
    messaging_settings), sent by Celery after commit; once per key.

    Without a URL the delivery is kept as failed with the reason, and the error logged: the org
    asked for an automation it has not connected.
    """
    from phones.messaging import tasks

    url = org_settings.automation_webhook_url if org_settings else ""
    problem = refusal(url) if url else NOT_CONFIGURED
    if problem:
        logger.error("SMS rule %s for org %s not delivered: %s", event, org.slug, problem)
    try:
        with transaction.atomic():
            delivery = OutboundWebhookDelivery.objects.create(
                org=org, key=key, event=event, url=url, payload=payload,
                status=OutboundWebhookDelivery.Status.FAILED if problem else OutboundWebhookDelivery.Status.PENDING,
                last_error=problem)
    except IntegrityError:
        return None
    if not problem:
        tasks.deliver_webhook.delay_on_commit(delivery_id=delivery.pk)
    return delivery


def delivery_attempt(delivery: OutboundWebhookDelivery) -> None:
    """POST it once; raises DeliveryFailed (recorded on the row) when it should be retried. A URL
    the outbound guard refuses fails the delivery at once, nothing sent."""
    org_settings = messaging_settings(delivery.org)
    if org_settings is None:
        raise DeliveryFailed(NOT_CONFIGURED)
    delivery.attempts += 1
    try:
        response = post_signed(delivery.url, org_settings.signing_secret, delivery.payload, event=delivery.event,
                               webhook_id=f"whd_{delivery.pk}")
    except DeliveryRefused as exc:
        delivery.last_error = str(exc)[:1000]
        delivery.save(update_fields=["attempts", "last_error"])
        delivery_give_up(delivery)
        return
    except DeliveryFailed as exc:
        delivery.last_error = str(exc)[:1000]
        delivery.save(update_fields=["attempts", "last_error"])
        raise
    delivery.status = OutboundWebhookDelivery.Status.DELIVERED
    delivery.response_status = response.status_code
    delivery.delivered_at = timezone.now()
    delivery.last_error = ""
    delivery.save(update_fields=["attempts", "status", "response_status", "delivered_at", "last_error"])


def delivery_give_up(delivery: OutboundWebhookDelivery) -> None:
    delivery.status = OutboundWebhookDelivery.Status.FAILED
    delivery.save(update_fields=["status"])
    logger.error("webhook delivery %s (%s) to %s failed after %d attempts: %s", delivery.pk, delivery.event,
                 delivery.url, delivery.attempts, delivery.last_error)
