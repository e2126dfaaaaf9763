"""IVR mode: the number's flow (phones.calls.documents.validate_ivr_flow) rendered node by node.

Twilio comes back to `/ivr-menu?node=<id>&attempt=<n>` after a menu's <Gather> (with Digits),
after a menu heard nothing (our <Redirect> with `noinput=1`), and after a transfer's <Dial>
(`dialed=1`, with DialCallStatus). Nodes that do not wait for the caller (recording control,
send-sms) are rendered in the same document as the node they lead to, so a caller never waits
on an extra round trip for them.

Recording: start-recording is TwiML (`<Start><Recording>`, in the twilio 9.13 builders);
TwiML cannot pause or resume a recording, so pause/resume-recording ask Twilio's Recordings
REST API (`Twilio.CURRENT` of the call) from a Celery task after the response is committed.
"""
from __future__ import annotations

import logging

from cachetools import LRUCache
from twilio.twiml.voice_response import VoiceResponse

from phones.calls import ai, twiml
from phones.calls.tasks import set_recording_status
from phones.calls.voice import agent_of, dial_system_phone, voice_response
from phones.inbound import Webhook
from phones.messaging.tasks import send_flow_sms
from phones.models import Agent, PhoneNumber

logger = logging.getLogger(__name__)

# Non-menu nodes rendered inline in one document; the validator refuses loops without a menu,
# this only bounds a document saved some other way.
MAX_INLINE_NODES = 25
INVALID_CHOICE = "Sorry, that is not a valid choice."
# Nodes whose document depends on the flow, the number's configuration and its provider's URL
# family alone: no caller input, no presence, no side effect (start-recording leads on inline).
STATIC_NODES = frozenset({"menu", "hangup", "transfer-phone", "transfer-queue", "voicemail", "start-recording"})
# (number, connection type, flow id, node, attempt) -> (the webhook's lookup row, the document).
_documents: LRUCache = LRUCache(maxsize=1000)
NO_CHOICE = "Sorry, we did not get your choice. Goodbye."


def _attempt(hook: Webhook) -> int:
    try:
        return max(int(hook.query.get("attempt") or 1), 1)
    except ValueError:
        return 1


class FlowRenderer:
    def __init__(self, hook: Webhook, flow: dict) -> None:
        self.hook = hook
        self.flow = flow
        self.nodes: dict[str, dict] = flow.get("nodes") or {}
        self.response = VoiceResponse()
        self.flow_id = hook.query.get("flow") or None

    def link(self, **query: object) -> str:
        return twiml.link("ivr-menu", self.hook.connection.type, flow=self.flow_id, **query)

    # ---------------------------------------------------------------- after a caller's input

    def after_menu(self, node_id: str, node: dict, attempt: int) -> VoiceResponse:
        digits = self.hook.call.digits or None
        if digits is not None and digits in node.get("options", {}):
            return self.render(node["options"][digits])
        redirect = node.get("invalid") if digits is not None else node.get("noInput")
        if redirect:
            return self.render(redirect)
        if attempt >= self.flow.get("maxRetries", 3):
            return self.fallback()
        if digits is not None:
            self.response.say(INVALID_CHOICE)
        return self.render(node_id, attempt=attempt + 1)

    def after_dial(self, node: dict) -> VoiceResponse:
        answered = self.hook.call.dial_status in twiml.ANSWERED
        if answered or not node.get("next"):
            if not answered:
                self.response.say(twiml.NOBODY_AVAILABLE)
            self.response.hangup()
            return self.response
        return self.render(node["next"])

    def fallback(self) -> VoiceResponse:
        """Retries ran out: the flow's fallback node, else the org's system phone (not when this is
        the system phone), else a goodbye."""
        if self.flow.get("fallback") in self.nodes:
            return self.render(self.flow["fallback"])
        if dial_system_phone(self.response, self.hook):
            return self.response
        self.response.say(NO_CHOICE)
        self.response.hangup()
        return self.response

    # ---------------------------------------------------------------- rendering

    def render(self, node_id: str, *, attempt: int = 1) -> VoiceResponse:
        for _ in range(MAX_INLINE_NODES):
            node = self.nodes.get(node_id)
            if node is None:
                logger.error("IVR flow of %s has no node %r", self.hook.number, node_id)
                self.response.say(twiml.NOBODY_AVAILABLE)
                self.response.hangup()
                return self.response
            following = getattr(self, "_" + node["type"].replace("-", "_"))(node_id, node, attempt)
            if following is None:
                return self.response
            node_id, attempt = following, 1
        logger.error("IVR flow of %s runs more than %d nodes without waiting for the caller",
                     self.hook.number, MAX_INLINE_NODES)
        self.response.hangup()
        return self.response

    # Each node renders itself and returns the id of the node to render next in the same
    # document, or None when the document ends with it.

    def _menu(self, node_id: str, node: dict, attempt: int) -> None:
        gather = self.response.gather(num_digits=1, timeout=node.get("timeout", 5), method="POST",
                                      action=self.link(node=node_id, attempt=attempt))
        twiml.say_or_play(gather, node)
        # <Gather> that hears nothing falls through to the next verb.
        self.response.redirect(self.link(node=node_id, attempt=attempt, noinput=1), method="POST")

    def _dial(self, node_id: str, node: dict):
        return self.response.dial(action=self.link(node=node_id, dialed=1), method="POST",
                                  timeout=node.get("timeout", 30), answer_on_bridge=True,
                                  caller_id=node.get("callerId"), **twiml.recording_kwargs(self.hook.number))

    def _transfer_phone(self, node_id: str, node: dict, attempt: int) -> None:
        self._dial(node_id, node).number(node["number"])

    def _transfer_user(self, node_id: str, node: dict, attempt: int) -> str | None:
        users, _ = twiml.identities(self.hook.org, usernames=[node["user"]])
        if node["user"] not in users:
            logger.info("IVR transfer to %r, who is not a member of %s or whose softphone is offline or busy",
                        node["user"], self.hook.org)
            return self._unreachable(node)
        twiml.ring_client(self._dial(node_id, node), users[node["user"]], self.hook.connection.type)
        return None

    def _transfer_group(self, node_id: str, node: dict, attempt: int) -> str | None:
        _, groups = twiml.identities(self.hook.org, groups=[node["group"]])
        members = groups.get(node["group"], [])
        if not members:
            logger.info("IVR transfer to ring group %r, none of whose members can take a call", node["group"])
            return self._unreachable(node)
        dial = self._dial(node_id, node)
        for identity in members:
            twiml.ring_client(dial, identity, self.hook.connection.type)
        return None

    def _unreachable(self, node: dict) -> str | None:
        if node.get("next"):
            return node["next"]
        self.response.say(twiml.NOBODY_AVAILABLE)
        self.response.hangup()
        return None

    def _transfer_queue(self, node_id: str, node: dict, attempt: int) -> None:
        self.response.enqueue(node["queue"])

    def _voicemail(self, node_id: str, node: dict, attempt: int) -> None:
        twiml.record_voicemail(self.response, kind="ivr-menu", connection_type=self.hook.connection.type,
                               prompt=node, max_length=node.get("maxLength", 120),
                               transcribe=bool(node.get("transcribe")))

    def _send_sms(self, node_id: str, node: dict, attempt: int) -> str:
        to = self.hook.call.other_party if node["to"] == "caller" else node["to"]
        if to.startswith("+") and self.hook.number is not None:
            send_flow_sms.delay_on_commit(number_id=self.hook.number.pk, to=to, body=node["body"])
        return node["next"]

    def _ai_assistant(self, node_id: str, node: dict, attempt: int) -> str | None:
        if node.get("agentId"):
            return self._agent(node)
        stream = self.response.connect().stream(url=node["url"])
        context = {"callSid": self.hook.call.sid, "from": self.hook.call.from_, "to": self.hook.call.to,
                   "org": self.hook.org.slug,
                   "number": self.hook.number.e164 if self.hook.number else ""}
        for name, value in {**node.get("parameters", {}), **context}.items():
            stream.parameter(name=name, value=value)
        # <Connect> returns when the assistant closes the stream.
        if node.get("next"):
            self.response.redirect(self.link(node=node["next"]), method="POST")
        else:
            self.response.hangup()

    def _agent(self, node: dict) -> str | None:
        """One of the org's agents answers through our gateway (phones.calls.ai); then the node's
        `next`, else the voice webhook's end of an AI call. An agent that is gone, or an org at its
        AI call limit: straight on to `next`, else the flow's fallback."""
        agent = Agent.objects.select_related("connection").filter(org=self.hook.org, public_id=node["agentId"]).first()
        then = self.link(node=node["next"], after="ai") if node.get("next") else ai.after_link(self.hook)
        if agent is not None and ai.connect_agent(self.response, self.hook, agent, then=then):
            return None
        if agent is None:
            logger.warning("IVR ai-assistant node of %s names agent %r, which is gone", self.hook.number,
                           node["agentId"])
        if node.get("next"):
            return node["next"]
        self.fallback()
        return None

    def _start_recording(self, node_id: str, node: dict, attempt: int) -> str:
        self.response.start().recording(recording_status_callback=twiml.link("recording",
                                                                             self.hook.connection.type),
                                        recording_status_callback_event="completed", track="both",
                                        channels="dual")
        return node["next"]

    def _pause_recording(self, node_id: str, node: dict, attempt: int) -> str:
        self._recording_status("paused")
        return node["next"]

    def _resume_recording(self, node_id: str, node: dict, attempt: int) -> str:
        self._recording_status("in-progress")
        return node["next"]

    def _recording_status(self, status: str) -> None:
        call_sid = self.hook.call.sid
        if call_sid:
            set_recording_status.delay_on_commit(connection_id=self.hook.connection.pk, call_sid=call_sid,
                                                       status=status)

    def _hangup(self, node_id: str, node: dict, attempt: int) -> None:
        twiml.say_or_play(self.response, node)
        self.response.hangup()


def _static(nodes: dict, node_id: str) -> bool:
    """Whether the document of `node_id` is made of STATIC_NODES only."""
    for _ in range(MAX_INLINE_NODES):
        node = nodes.get(node_id)
        if node is None or node["type"] not in STATIC_NODES:
            return False
        if node["type"] != "start-recording":
            return True
        node_id = node.get("next")
    return False


def _document(hook: Webhook, flow: dict, node_id: str, attempt: int = 1) -> VoiceResponse:
    """The document of `node_id` as FlowRenderer renders it, kept per lookup row when it is made
    of STATIC_NODES: the number's routing or configuration changed, its connection too, means a
    new row (webhooks.lookup_cache), so a kept document is never used past a change. A kept
    document is the same object for every call: it is rendered, never changed (and the
    providers' renderers may keep their text on it, webhooks.handlers)."""
    renderer = FlowRenderer(hook, flow)
    row = hook.resolved_from
    if row is None or not _static(renderer.nodes, node_id):
        return renderer.render(node_id, attempt=attempt)
    key = (hook.number.pk, hook.connection.type, renderer.flow_id, node_id, attempt)
    kept = _documents.get(key)
    if kept is not None and kept[0] is row:
        return kept[1]
    document = renderer.render(node_id, attempt=attempt)
    _documents[key] = (row, document)
    return document


def _after_ai(hook: Webhook, flow: dict | None) -> VoiceResponse | None:
    """The stream of an AI call ended and the call came back (`after=ai`). With a node to go on to:
    that node (after an apology when the AI failed). Else: the end of the call, or after a failure
    the flow's fallback node, else voice mode's fallback (voice_response apologises)."""
    failed = ai.failed(hook)
    if hook.query.get("node"):
        if not failed:
            return None
        response = ivr_response_core(hook, flow)
        response.verbs.insert(0, VoiceResponse().say(ai.APOLOGY))
        return response
    if failed and flow and flow.get("fallback") in (flow.get("nodes") or {}):
        renderer = FlowRenderer(hook, flow)
        ai.apologise(renderer.response)
        return renderer.render(flow["fallback"])
    return voice_response(hook)


def ivr_response(hook: Webhook) -> VoiceResponse:
    routing = hook.routing
    flow = routing.ivr_flow if routing else None
    if hook.query.get("after") == "ai":
        answer = _after_ai(hook, flow)
        if answer is not None:
            return answer
    elif (not hook.query.get("node") and not hook.query.get("done") and not hook.call.dial_status
          and (agent := agent_of(hook)) is not None):
        # A number attached to an agent: the agent answers, before any flow.
        response = VoiceResponse()
        if ai.connect_agent(response, hook, agent, then=ai.after_link(hook)):
            return response
    return ivr_response_core(hook, flow, cached=True)


def ivr_response_core(hook: Webhook, flow: dict | None, *, cached: bool = False) -> VoiceResponse:
    """The flow's document for this request; `cached`: possibly a kept one (_document), for the
    caller to render only."""
    if not flow or not flow.get("nodes"):
        # An IVR number without a flow: the org's system phone answers for it (not when it is the
        # system phone itself); else voice mode's answer (its assignments, voicemail, goodbye).
        ivr_mode = hook.number is not None and hook.number.routing_mode == PhoneNumber.RoutingMode.IVR
        if ivr_mode and not hook.query.get("done") and not hook.call.dial_status:
            response = VoiceResponse()
            if dial_system_phone(response, hook):
                twiml.call_remember(hook)
                return response
        return voice_response(hook)
    if hook.query.get("done"):
        return twiml.goodbye()
    node_id = hook.query.get("node") or ""
    node = (flow.get("nodes") or {}).get(node_id)
    if node is None:
        twiml.call_remember(hook)
        return _document(hook, flow, flow["entry"]) if cached else FlowRenderer(hook, flow).render(flow["entry"])
    renderer = FlowRenderer(hook, flow)
    if hook.query.get("dialed"):
        return renderer.after_dial(node)
    if node["type"] == "menu" and (hook.call.digits is not None or hook.query.get("noinput")):
        return renderer.after_menu(node_id, node, _attempt(hook))
    if cached:
        return _document(hook, flow, node_id, _attempt(hook))
    return renderer.render(node_id, attempt=_attempt(hook))
