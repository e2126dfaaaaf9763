"""Telnyx's messaging events (JSON `{"data": {"event_type", "payload"}}`) as provider-neutral events.
Its TeXML requests carry Twilio's form fields (providers.twilio.inbound)."""
from __future__ import annotations

from core.parsers import loads
from providers.events import MAX_MEDIA, InboundSms, StatusEvent, to_int

# Telnyx's per-recipient message statuses, in the vocabulary phones.calls.callbacks ranks.
MESSAGE_STATUS = {"queued": "queued", "sending": "sending", "sent": "sent", "delivered": "delivered",
                  "sending_failed": "failed", "delivery_failed": "undelivered", "delivery_unconfirmed": "sent"}


STATUS_EVENTS = frozenset({"message.sent", "message.finalized"})


def event_payload(raw: bytes) -> tuple[str, dict] | None:
    try:
        body = loads(raw or b"{}")  # depth-limited: a JSONError (a ValueError), never a RecursionError
        data = body["data"]
        return str(data["event_type"]), dict(data["payload"])
    except (ValueError, KeyError, TypeError):
        return None


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _text(value: object) -> str:
    """A string field; a number is written out, anything else (a list, an object) is no value."""
    return str(value) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""


def recipient(payload: dict) -> dict:
    recipients = _list(payload.get("to")) or [{}]
    return _dict(recipients[0])


def inbound_sms(payload: dict) -> InboundSms:
    media = [_text(_dict(m).get("url", "")) for m in _list(payload.get("media"))[:MAX_MEDIA]]
    return InboundSms(sid=_text(payload.get("id", "")), from_=_text(_dict(payload.get("from")).get("phone_number", "")),
                      to=_text(recipient(payload).get("phone_number", "")), body=_text(payload.get("text")),
                      media_urls=[url for url in media if url], segments=max(to_int(payload.get("parts")) or 1, 1))


def message_status(payload: dict) -> StatusEvent:
    status = _text(recipient(payload).get("status", ""))
    errors = _list(payload.get("errors"))
    return StatusEvent(kind="message", sid=_text(payload.get("id", "")), status=MESSAGE_STATUS.get(status, status),
                       from_=_text(_dict(payload.get("from")).get("phone_number", "")),
                       to=_text(recipient(payload).get("phone_number", "")), outbound=True,
                       error_code=_text(_dict(errors[0]).get("code", "")) if errors else "",
                       segments=to_int(payload.get("parts")))
