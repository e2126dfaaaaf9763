"""Telnyx's messaging events (JSON `{"data": {"event_type", "payload"}}`) as provider-neutral events.
Its TeXML requests carry Twilio's form fields (providers.twilio.inbound)."""
from __future__ import annotations

import json

from providers.events import MAX_MEDIA, InboundSms, StatusEvent, to_int

# Telnyx's per-recipient message statuses, in the vocabulary phones.calls.callbacks ranks.
MESSAGE_STATUS = {"queued": "queued", "sending": "sending", "sent": "sent", "delivered": "delivered",
                  "sending_failed": "failed", "delivery_failed": "undelivered", "delivery_unconfirmed": "sent"}


STATUS_EVENTS = frozenset({"message.sent", "message.finalized"})


def event_payload(raw: bytes) -> tuple[str, dict] | None:
    try:
        body = json.loads(raw or b"{}")
        data = body["data"]
        return str(data["event_type"]), dict(data["payload"])
    except (ValueError, KeyError, TypeError):
        return None


def recipient(payload: dict) -> dict:
    recipients = payload.get("to") or [{}]
    return recipients[0] if isinstance(recipients, list) and isinstance(recipients[0], dict) else {}


def inbound_sms(payload: dict) -> InboundSms:
    media = [m.get("url", "") for m in (payload.get("media") or [])[:MAX_MEDIA] if isinstance(m, dict)]
    return InboundSms(sid=str(payload.get("id", "")), from_=(payload.get("from") or {}).get("phone_number", ""),
                      to=recipient(payload).get("phone_number", ""), body=payload.get("text") or "",
                      media_urls=[url for url in media if url], segments=max(to_int(payload.get("parts")) or 1, 1))


def message_status(payload: dict) -> StatusEvent:
    status = recipient(payload).get("status", "")
    errors = payload.get("errors") or []
    return StatusEvent(kind="message", sid=str(payload.get("id", "")), status=MESSAGE_STATUS.get(status, status),
                       from_=(payload.get("from") or {}).get("phone_number", ""),
                       to=recipient(payload).get("phone_number", ""), outbound=True,
                       error_code=str(errors[0].get("code", "")) if errors and isinstance(errors[0], dict) else "",
                       segments=to_int(payload.get("parts")))
