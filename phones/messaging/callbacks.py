"""Status callbacks of the texts we sent.

They arrive out of order and more than once, so a status only moves forward, by rank (see
phones.calls.callbacks for calls). SMS segments are recorded as usage once per SID, when a text
reaches `sent` or beyond (Twilio bills it then, delivered or not).
"""
from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from billing.services import usage_record
from core import bounds
from phones.inbound import Webhook
from phones.models import Message
from providers.events import StatusEvent

logger = logging.getLogger(__name__)

MESSAGE_RANK = {"accepted": 0, "scheduled": 0, "queued": 0, "sending": 1, "sent": 2, "delivered": 3,
                "undelivered": 3, "failed": 3, "canceled": 3, "read": 4}
BILLED_MESSAGE_RANK = MESSAGE_RANK["sent"]



def moves_forward(ranks: dict[str, int], old: str, new: str) -> bool:
    return ranks[new] > ranks.get(old, -1)


def month_start():
    return timezone.now().date().replace(day=1)


# A reply given in a webhook's answer (TwiML <Message>) has no SID of ours until its status callback,
# whose URL names it: `?reply=<the inbound text's SID>:<the reply's index>`. Until then its row is
# kept under a placeholder SID.
REPLY_QUERY = "reply"


def reply_key(inbound_sid: str, index: int) -> str:
    return f"{inbound_sid}:{index}"


def reply_placeholder(inbound_sid: str, index: int) -> str:
    return f"reply:{reply_key(inbound_sid, index)}"


def is_billed(status: str) -> bool:
    """Twilio bills a text we sent once it is `sent` or beyond, delivered or not."""
    return MESSAGE_RANK.get(status, -1) >= BILLED_MESSAGE_RANK and status not in ("failed", "canceled")


def _reply(hook: Webhook, key: str, sid: str, status: str) -> Message | None:
    """The reply `key` names, now kept under its own SID; None when its text is not threaded yet:
    the SID and status are then kept on the text's stored answer, for its threading (inbound)."""
    inbound_sid, _, index = key.rpartition(":")
    if not index.isdigit() or len(index) > 3:
        return None
    reply = (Message.objects.select_for_update(of=("self",)).select_related("org", "phone_number")
             .filter(org=hook.org, provider_sid=reply_placeholder(inbound_sid, int(index))).first())
    if reply is not None:
        reply.provider_sid = sid
        reply.save(update_fields=["provider_sid"])
        return reply
    text = (Message.objects.select_for_update().filter(org=hook.org, provider_sid=inbound_sid,
                                                       direction=Message.Direction.INBOUND, answer__isnull=False)
            .first())
    if text is not None and text.conversation_id is None:
        sent = {**text.answer.get("sent", {}), index: [sid, status]}
        text.answer = {**text.answer, "sent": sent}
        text.save(update_fields=["answer"])
    return None


def message_status(hook: Webhook, event: StatusEvent) -> None:
    sid, status = bounds.column(Message, "provider_sid", event.sid), event.status
    if status not in MESSAGE_RANK:
        logger.info("message %s: status %r not tracked", sid, status)
        return
    with transaction.atomic():
        # Org and number come with the row: usage_record needs them once the status is billed.
        message = (Message.objects.select_for_update(of=("self",)).select_related("org", "phone_number")
                   .filter(org=hook.org, provider_sid=sid).first())
        if message is None and hook.query.get(REPLY_QUERY):
            message = _reply(hook, hook.query[REPLY_QUERY], sid, status)
        if message is None:
            logger.info("status %s for message %s, which is not ours (or not threaded yet)", status, sid)
            return
        if not moves_forward(MESSAGE_RANK, message.status, status):
            return
        was_billed = MESSAGE_RANK.get(message.status, -1) >= BILLED_MESSAGE_RANK
        message.status = status
        message.error_code = bounds.column(Message, "error_code", event.error_code) or message.error_code
        message.segments = bounds.column(Message, "segments", event.segments) or message.segments
        message.save(update_fields=["status", "error_code", "segments"])
        if message.direction == Message.Direction.OUTBOUND and not was_billed and is_billed(status):
            usage_record(org=message.org, phone_number=message.phone_number, kind="sms_segment",
                         quantity=message.segments, period=month_start(), key=f"sms:{sid}")
