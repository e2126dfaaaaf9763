"""The tools an agent's model may call, run on the server (synchronous: the session runs them in a
thread). Each answers a dict the model is told (function_call_output); a refusal or failure is an
{"error": ...} for the model to handle, never something the caller hears from us.

- transfer {target}: the live call at the provider gets new markup (the gateway's stream ends): a
  number (<Dial><Number>), an org member's softphone (<Dial><Client>), or a queue (<Enqueue>), as
  the agent's transfer_targets name them. TwiML inline for Twilio, TeXML (the same) for Telnyx; Plivo
  fetches it, as Plivo XML, from a signed link of ours (phones.calls.ai.markup_link).
- hangup {}: the call ends now.
- end_call {reason}: the conversation is over: the call ends once the agent's last words have played.
- send_sms {body}: a text to the caller from the number called, through the normal send path
  (phones.messaging.services.sms_send: an opted-out caller is refused).
"""
from __future__ import annotations

import logging

from twilio.twiml.voice_response import VoiceResponse

from core.errors import DomainError
from orgs.models import Org
from phones.agents.gateway.context import StreamContext, phone_provider
from phones.calls import ai, twiml
from phones.messaging.services import sms_send
from providers.base import ProviderError

logger = logging.getLogger(__name__)

MAX_SMS_CHARS = 640


def definitions(context: StreamContext) -> list[dict]:
    """The session's `tools`: a function definition for each tool the agent may use."""
    found = []
    for name in context.agent.tools:
        if name == "transfer":
            targets = sorted(context.agent.transfer_targets)
            if not targets:
                continue
            found.append({"type": "function", "name": "transfer",
                          "description": "Transfer the caller to a person, team or queue. Say you are transferring "
                                         "them first.",
                          "parameters": {"type": "object", "properties": {"target": {
                              "type": "string", "enum": targets, "description": "Where to transfer the call."}},
                              "required": ["target"]}})
        elif name == "hangup":
            found.append({"type": "function", "name": "hangup", "description": "End the call immediately.",
                          "parameters": {"type": "object", "properties": {}}})
        elif name == "end_call":
            found.append({"type": "function", "name": "end_call",
                          "description": "End the call once your last words have been heard (the conversation "
                                         "is over).",
                          "parameters": {"type": "object", "properties": {"reason": {"type": "string"}}}})
        elif name == "send_sms":
            found.append({"type": "function", "name": "send_sms",
                          "description": "Send the caller a text message (to the number they are calling from).",
                          "parameters": {"type": "object", "properties": {"body": {
                              "type": "string", "description": "The text, at most 640 characters."}},
                              "required": ["body"]}})
    return found


def transfer_twiml(context: StreamContext, target: str) -> str:
    """The TwiML a transfer to one of the agent's transfer_targets runs (ValueError when unknown)."""
    destination = context.agent.transfer_targets.get(target)
    if destination is None:
        raise ValueError(f"unknown transfer target {target!r}: one of {sorted(context.agent.transfer_targets)}")
    response = VoiceResponse()
    if destination.startswith("queue:"):
        response.enqueue(destination.removeprefix("queue:"))
    elif destination.startswith("user:"):
        username = destination.removeprefix("user:")
        users, _ = twiml.identities(Org.objects.get(pk=context.org_id), usernames=[username])
        if username not in users:
            raise ValueError(f"{username} cannot take a call now (not a member of this org, or their softphone "
                             "is offline or busy)")
        response.dial(answer_on_bridge=True).client(identity=users[username])
    elif destination.startswith("+"):
        response.dial(answer_on_bridge=True, caller_id=context.number_e164).number(destination)
    else:
        raise ValueError(f"transfer target {target!r} is neither a number, a user nor a queue")
    return str(response)


def transfer(context: StreamContext, markup: str) -> None:
    """The live call runs `markup` now: given inline, or, to a provider that fetches it
    (markup_by_url: Plivo), from our signed link serving it (phones.calls.ai.markup_link)."""
    provider = phone_provider(context)
    if provider.markup_by_url:
        provider.update_call(context.call_sid, url=ai.markup_link(context.phone_connection.type, context.call_sid,
                                                                  markup))
    else:
        provider.update_call(context.call_sid, twiml=markup)


def run(context: StreamContext, name: str, arguments: dict) -> dict:
    """Run one tool; what the model is told."""
    if name not in context.agent.tools:
        return {"error": f"the tool {name!r} is not available"}
    try:
        if name == "transfer":
            transfer(context, transfer_twiml(context, str(arguments.get("target", ""))))
            return {"ok": True, "transferred_to": str(arguments.get("target", ""))}
        if name == "hangup":
            phone_provider(context).update_call(context.call_sid, hangup=True)
            return {"ok": True}
        if name == "end_call":
            return {"ok": True, "note": "the call ends after your last words"}
        if name == "send_sms":
            body = str(arguments.get("body", "")).strip()[:MAX_SMS_CHARS]
            message = sms_send(org=Org.objects.get(pk=context.org_id), to=context.caller, body=body,
                               from_=context.number_e164)
            return {"ok": True, "message_id": message.public_id}
    except (ValueError, DomainError, ProviderError) as exc:
        logger.info("AI call %s: tool %s refused: %s", context.call_sid, name, exc)
        return {"error": str(exc)}
    return {"error": f"the tool {name!r} is not available"}


def hang_up(context: StreamContext) -> None:
    """End the call at the provider (the max call length, end_call once the words played)."""
    try:
        phone_provider(context).update_call(context.call_sid, hangup=True)
    except ProviderError as exc:
        logger.warning("AI call %s: could not hang up: %s", context.call_sid, exc)
