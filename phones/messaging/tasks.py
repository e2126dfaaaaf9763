"""The slow parts of answering a webhook, run by Celery after the webhook's transaction commits.

Tasks take ids, call a service, and retry (with exponential backoff) only what can succeed on
retry: a transport failure or a transient provider error, never a refusal.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from time import monotonic
from typing import TypeVar

from celery import shared_task

from core import retry
from core.errors import DomainError
from core.retry import GaveUp
from phones.models import Message, OutboundWebhookDelivery, PhoneNumber
from providers.base import ProviderError

logger = logging.getLogger(__name__)
T = TypeVar("T")

BACKOFF_SECONDS = 30
AI_HISTORY = 20


def backoff(retries: int) -> int:
    """30 s, 1 min, 2 min, 4 min …"""
    return BACKOFF_SECONDS * 2 ** retries


def with_retries(task, attempt: Callable[[], T], retryable: tuple[type[Exception], ...],
                 can_retry: Callable[[Exception], bool] = lambda exc: True) -> T:
    """`attempt()`, retried with backoff on `retryable` failures until the task's max_retries."""
    return retry.with_retries(task, attempt, retryable, max_retries=task.max_retries, backoff=backoff,
                              can_retry=can_retry)


@shared_task(bind=True, max_retries=6, acks_late=True, name="webhooks.tasks.deliver_webhook")
def deliver_webhook(self, *, delivery_id: int) -> None:
    from phones.messaging import outbound_webhooks as outbound

    delivery = (OutboundWebhookDelivery.objects.select_related("org")
                .filter(pk=delivery_id, status=OutboundWebhookDelivery.Status.PENDING).first())
    if delivery is None:  # delivered by an earlier copy of this task, or given up
        return
    try:
        with_retries(self, lambda: outbound.delivery_attempt(delivery), (outbound.DeliveryFailed,))
    except GaveUp:
        outbound.delivery_give_up(delivery)


def _send(task, *, number_id: int, to: str, body: str) -> None:
    """A transactional text from one of the org's numbers (no opt-out language: see sms_send)."""
    from phones.messaging import services as messaging

    number = PhoneNumber.objects.select_related("org").filter(pk=number_id).first()
    if number is None:
        return
    try:
        # An unknown outcome is not re-sent: a text twice is worse than a lost copy.
        with_retries(task, lambda: messaging.sms_send(org=number.org, from_=number.e164, to=to, body=body),
                     (ProviderError,), lambda exc: not (exc.permanent or exc.outcome_unknown))
    except GaveUp as exc:
        logger.error("text from %s to %s not sent: %r", number.e164, to, exc.__cause__)
    except DomainError as exc:
        logger.warning("text from %s to %s not sent: %s", number.e164, to, exc.message)


# Texts are threaded in batches, by one task per web process per THREAD_DELAY_SECONDS at most.
THREAD_DELAY_SECONDS = 0.5
THREAD_BATCH = 200
_thread_task_covers_until = 0.0


def thread_inbound_sms_soon() -> None:
    """Have a worker thread the inbound texts stored so far (thread_inbound_sms).

    A task sent now runs THREAD_DELAY_SECONDS later, so it also finds every text this process
    stores in the next half of that time: those send none. A task that cannot be sent (the
    broker is down) is logged, not raised: the text and its answer are stored, and the beat's
    sweep threads them."""
    global _thread_task_covers_until
    if thread_inbound_sms.app.conf.task_always_eager:
        thread_inbound_sms.delay()
        return
    now = monotonic()
    if now < _thread_task_covers_until:
        return
    try:
        thread_inbound_sms.apply_async(countdown=THREAD_DELAY_SECONDS)
    except Exception:
        logger.exception("could not queue the threading of inbound texts; the periodic sweep will")
        return
    _thread_task_covers_until = now + THREAD_DELAY_SECONDS / 2


@shared_task(acks_late=True, name="webhooks.tasks.thread_inbound_sms")
def thread_inbound_sms() -> int:
    """Thread every stored inbound text that has no conversation yet, oldest first
    (phones.messaging.inbound.sms_thread_batch); also the beat's sweep. Returns how many it threaded."""
    from phones.messaging import inbound as sms

    threaded = 0
    while True:
        done = sms.sms_thread_batch(limit=THREAD_BATCH)
        threaded += done
        if done < THREAD_BATCH:
            return threaded


@shared_task(bind=True, max_retries=4, acks_late=True, name="webhooks.tasks.sms_reply_send")
def sms_reply_send(self, *, message_id: int, body: str) -> None:
    """A reply to an inbound text, for a provider whose webhook answer cannot carry it (Telnyx).

    Sent even to a sender who has just opted out: the reply was decided before the opt-out was
    recorded (an opt-out's confirmation is such a reply), and rule replies to suppressed senders
    were never decided. Kept in the thread with the provider's SID, so its status callbacks apply.
    """
    from phones.messaging import services as messaging

    inbound = (Message.objects.select_related("org", "phone_number__connection", "conversation")
               .filter(pk=message_id).first())
    if inbound is None or inbound.phone_number is None:
        return
    try:
        with_retries(self, lambda: messaging.sms_reply_send(inbound=inbound, body=body),
                     (ProviderError,), lambda exc: not (exc.permanent or exc.outcome_unknown))
    except GaveUp as exc:
        logger.error("reply from %s to %s not sent: %r", inbound.phone_number.e164, inbound.from_number,
                     exc.__cause__)


@shared_task(bind=True, max_retries=4, acks_late=True, name="webhooks.tasks.forward_sms")
def forward_sms(self, *, number_id: int, to: str, body: str) -> None:
    """forward-sms rule: the inbound text, to a staff number (an internal message: no TCPA footer)."""
    _send(self, number_id=number_id, to=to, body=body)


@shared_task(bind=True, max_retries=4, acks_late=True, name="webhooks.tasks.send_flow_sms")
def send_flow_sms(self, *, number_id: int, to: str, body: str) -> None:
    """send-sms IVR node: a text to the caller (or a fixed number) while the call goes on (transactional)."""
    _send(self, number_id=number_id, to=to, body=body)


@shared_task(bind=True, max_retries=3, acks_late=True, name="webhooks.tasks.ai_assistant_reply")
def ai_assistant_reply(self, *, message_id: int, instructions: str = "") -> None:
    """ai-assistant rule: POST the conversation to the org's AI endpoint; text back its `reply`.

    The endpoint answers `{"reply": "…"}` (an empty reply sends nothing). When it keeps failing,
    the sender gets a fallback reply instead of silence.
    """
    from phones.messaging import outbound_webhooks as outbound

    message = (Message.objects.select_related("org", "phone_number", "conversation")
               .filter(pk=message_id).first())
    if message is None or message.phone_number is None:
        return
    org_settings = outbound.messaging_settings(message.org)
    url = outbound.ai_assistant_url(org_settings, org=message.org, number=message.phone_number.e164)
    reply = outbound.AI_FALLBACK_REPLY
    if url:
        history = (list(message.conversation.messages.order_by("-created_at", "-id")[:AI_HISTORY])
                   if message.conversation else [message])
        payload = {
            "event": "sms.ai_assistant", "org": message.org.slug, "number": message.phone_number.e164,
            "contact": message.from_number, "instructions": instructions,
            "messages": [{"direction": m.direction, "body": m.body, "at": m.created_at.isoformat()}
                         for m in reversed(history)],
        }

        def ask() -> object:
            response = outbound.post_signed(url, org_settings.signing_secret, payload,
                                            event="sms.ai_assistant", webhook_id=f"ai_{message.public_id}")
            answer = response.json()
            return answer.get("reply", "") if isinstance(answer, dict) else ""
        try:
            reply = with_retries(self, ask, (outbound.DeliveryFailed, ValueError))
        except GaveUp as exc:
            logger.error("AI assistant of org %s failed (%s); sent the fallback reply", message.org.slug, exc)
    if isinstance(reply, str) and reply.strip():
        _send(self, number_id=message.phone_number_id, to=message.from_number, body=reply[:1600])


@shared_task(acks_late=True, name="phones.tasks.agent_text_reply")
def agent_text_reply(*, message_id: int, agent_id: int) -> None:
    """The number's AI agent answers an inbound text (phones.messaging.agent_reply). A failure is
    logged and sends nothing: never retried, so a sender never gets two answers."""
    from phones.messaging.agent_reply import agent_text_reply_run

    agent_text_reply_run(message_id=message_id, agent_id=agent_id)
