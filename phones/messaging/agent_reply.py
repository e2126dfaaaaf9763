"""Text agents: an inbound text to a number attached to an AI agent is answered by the agent.

phones.messaging.inbound decides it (after the opt-out keywords and the number's SMS rules, never
for a sender who has opted out) and queues tasks.agent_text_reply once the text is threaded. Here:
the conversation's recent messages (AI_TEXT_HISTORY, oldest first: the sender's as "user", ours as
"assistant") and the agent's instructions go to the agent's AI connection (providers.registry
ai_service: the openai SDK's chat completions for openai-realtime, a deterministic rule-based reply for
sandbox-ai), and the reply is sent through the normal send path (services.sms_send: an opted-out
recipient gets nothing) from the number, into the same thread. Any failure is logged and nothing is
sent.
"""
from __future__ import annotations

import logging

from django.conf import settings

from core.errors import DomainError
from phones.messaging import services as messaging
from phones.models import Agent, Message
from providers.base import ProviderError, TextTurn
from providers.registry import ai_service

logger = logging.getLogger(__name__)

MAX_REPLY = 1600
SMS_NOTE = ("You are answering a text message (SMS) conversation, not a call: reply in plain text, briefly "
            "(one or two short sentences), without markdown.")


def history_for(message: Message, limit: int) -> list[TextTurn]:
    """The conversation's last `limit` texts up to `message`, oldest first."""
    if message.conversation_id is None:
        return [TextTurn("user", message.body)]
    recent = list(Message.objects.filter(conversation_id=message.conversation_id, created_at__lte=message.created_at)
                  .order_by("-created_at", "-id").values_list("direction", "body")[:limit])
    return [TextTurn("user" if direction == Message.Direction.INBOUND else "assistant", body)
            for direction, body in reversed(recent) if body.strip()]


def instructions_for(agent: Agent) -> str:
    parts = [agent.instructions.strip(), SMS_NOTE]
    if agent.language and agent.language != "en":
        parts.append(f"Answer in the language whose code is {agent.language!r} unless the sender writes in another.")
    return "\n\n".join(part for part in parts if part)


def agent_text_reply_run(*, message_id: int, agent_id: int) -> Message | None:
    """Ask the agent and text its reply; the sent message, or None when nothing was sent."""
    message = Message.objects.select_related("org", "phone_number").filter(pk=message_id).first()
    agent = Agent.objects.select_related("connection").filter(pk=agent_id).first()
    if message is None or message.phone_number is None or agent is None or agent.org_id != message.org_id:
        logger.info("agent text reply to message %s: nothing to answer with", message_id)
        return None
    connection = agent.connection
    try:
        service = ai_service(connection.type)
        model = settings.AI_TEXT_MODEL if connection.type == "openai-realtime" else ""
        reply = service.text_reply(connection.credentials, connection.public_config,
                                   instructions=instructions_for(agent),
                                   history=history_for(message, settings.AI_TEXT_HISTORY), model=model)
    except (ProviderError, ValueError) as exc:
        logger.warning("agent %s could not answer text %s: %s", agent.public_id, message.public_id, exc)
        return None
    reply = (reply or "").strip()[:MAX_REPLY]
    if not reply:
        return None
    try:
        return messaging.sms_send(org=message.org, from_=message.phone_number.e164, to=message.from_number,
                                  body=reply)
    except ProviderError as exc:
        logger.warning("agent %s reply to %s not sent: %s", agent.public_id, message.from_number, exc)
    except DomainError as exc:  # opted out meanwhile, number gone…
        logger.info("agent %s reply to %s not sent: %s", agent.public_id, message.from_number, exc.message)
    return None
