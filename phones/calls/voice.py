"""Voice mode: a call rings the number's assignments, then goes to voicemail.

The routing's voice document (phones.calls.routing) is `{strategy, assignments, voicemail}`.
Simultaneous: everyone but the queue rings at once in one <Dial>. Sequential: one <Dial> per
ringOrder, each step's action (`/voice?step=N`, with Twilio's DialCallStatus) moving on to the
next when nobody answered. A queue is always the last step (<Enqueue>). When every step is
exhausted: the routing's voicemail, else voiceConfig's (voicemailEnabled + voicemailGreeting),
else a polite goodbye. A number with nothing assigned forwards to the org's system phone.

A number attached to an AI agent is answered by the agent first (phones.calls.ai); the routing
above is its fallback: when the org is at its AI call limit, or after the AI failed (with an apology).
"""
from __future__ import annotations

from itertools import groupby

from twilio.twiml.voice_response import VoiceResponse

from phones.calls import ai, twiml
from phones.calls.routing import voice_document
from phones.inbound import Webhook
from phones.models import Agent, PhoneNumber

DEFAULT_VOICEMAIL_GREETING = "Sorry we missed your call. Please leave a message after the tone."
DEFAULT_RING_TIMEOUT = 20


def ring_steps(document: dict) -> list[list[dict]]:
    assignments = document.get("assignments") or []
    ringing = [a for a in assignments if a["type"] != "queue"]
    queue = [[a] for a in assignments if a["type"] == "queue"]
    if document.get("strategy") == "sequential":
        return [list(step) for _, step in groupby(ringing, key=lambda a: a.get("ringOrder", 0))] + queue
    return ([ringing] if ringing else []) + queue


def _voicemail(number: PhoneNumber, document: dict) -> dict | None:
    if document.get("voicemail"):
        return document["voicemail"]
    config = twiml.voice_config(number)
    if config.get("voicemailEnabled"):
        return {"say": config.get("voicemailGreeting") or DEFAULT_VOICEMAIL_GREETING, "maxLength": 120,
                "transcribe": bool(config.get("transcribeCalls"))}
    return None


def _dial_step(response: VoiceResponse, hook: Webhook, step: list[dict], action: str, *, first: bool,
               users: dict[str, str], groups: dict[str, list[str]]) -> bool:
    """One <Dial> ringing every assignment of the step at once (`users`' and `groups`' softphone
    identities, twiml.identities); False when none can ring."""
    nouns: list[tuple[str, str]] = []
    for assignment in step:
        kind, target = assignment["type"], assignment["target"]
        if kind == "user" and target in users:
            nouns.append(("client", users[target]))
        elif kind == "group":
            nouns += [("client", identity) for identity in groups.get(target, [])]
        elif kind == "client":
            nouns.append(("client", target))
        elif kind == "phone":
            nouns.append(("number", target))
    nouns = list(dict.fromkeys(nouns))
    if not nouns:
        return False
    config = twiml.voice_config(hook.number)
    timeout = max((a.get("timeout") or 0 for a in step), default=0) or config.get("ringTimeout") or DEFAULT_RING_TIMEOUT
    if first:  # one transcription for the whole call, started before the first <Dial>
        twiml.start_transcription(response, hook.number)
    dial = response.dial(action=action, method="POST", timeout=timeout, answer_on_bridge=True,
                         **twiml.recording_kwargs(hook.number))
    for noun, target in nouns:
        if noun == "client":
            twiml.ring_client(dial, target, hook.connection.type)
        else:
            dial.number(target)
    return True


def _system_phone(hook: Webhook) -> PhoneNumber | None:
    """The org's active system phone, unless it is the number called (a call never loops to itself)."""
    return (PhoneNumber.objects.filter(org=hook.org, is_system=True, status=PhoneNumber.Status.ACTIVE)
            .exclude(pk=hook.number.pk).first())


def dial_system_phone(response: VoiceResponse, hook: Webhook) -> bool:
    """<Dial> the org's system phone (the fallback of a number nobody answers for); False when
    there is none, or the number called is the system phone."""
    if hook.number is None or (system := _system_phone(hook)) is None:
        return False
    response.dial(timeout=DEFAULT_RING_TIMEOUT * 2, answer_on_bridge=True).number(system.e164)
    return True


def agent_of(hook: Webhook) -> Agent | None:
    """The agent the called number is attached to, if any."""
    if hook.number is None or not hook.number.agent_id:
        return None
    return Agent.objects.select_related("connection").filter(pk=hook.number.agent_id, org_id=hook.org.pk).first()


def voice_response(hook: Webhook) -> VoiceResponse:
    if hook.query.get("done"):
        return twiml.goodbye()
    if hook.call.dial_status in twiml.ANSWERED:
        response = VoiceResponse()
        response.hangup()
        return response
    after_ai = hook.query.get("after") == "ai"
    if after_ai and not ai.failed(hook):  # the agent's conversation ended: so does the call
        response = VoiceResponse()
        response.hangup()
        return response
    if not after_ai and not hook.query.get("step") and (agent := agent_of(hook)) is not None:
        response = VoiceResponse()
        if ai.connect_agent(response, hook, agent, then=ai.after_link(hook)):
            return response
    routing = hook.routing
    document = voice_document(routing.assignments if routing else [])
    steps = ring_steps(document)
    try:
        step = max(int(hook.query.get("step") or 0), 0)
    except ValueError:
        step = 0
    first = step == 0
    if first:
        twiml.call_remember(hook)
    response = VoiceResponse()
    if after_ai:
        ai.apologise(response)
    # The softphones of every step still to try, in one go: a step nobody can answer moves on.
    remaining = [a for current in steps[step:] for a in current]
    users, groups = twiml.identities(hook.org, usernames=[a["target"] for a in remaining if a["type"] == "user"],
                                     groups=[a["target"] for a in remaining if a["type"] == "group"])
    while step < len(steps):
        current = steps[step]
        step += 1
        if current[0]["type"] == "queue":
            response.enqueue(current[0]["target"])
            return response
        action = twiml.link("voice", hook.connection.type, step=step)
        if _dial_step(response, hook, current, action, first=first, users=users, groups=groups):
            return response
    if not steps and dial_system_phone(response, hook):
        return response
    voicemail = _voicemail(hook.number, document)
    if voicemail is None:
        return twiml.goodbye(twiml.NOBODY_AVAILABLE)
    twiml.record_voicemail(response, kind="voice", connection_type=hook.connection.type, prompt=voicemail,
                           max_length=voicemail.get("maxLength", 120),
                           transcribe=bool(voicemail.get("transcribe")))
    return response
