"""Calls answered by an AI agent: `<Connect><Stream>` to our own media gateway, set up automatically.

A number attached to an agent (PhoneNumber.agent) has its calls answered by the agent, whatever its
routing mode; an IVR `ai-assistant` node naming an `agentId` hands the call to that agent at that
point of the flow. The answer is

    <Connect><Stream url="wss://<PUBLIC_BASE_URL's host>/media/stream">
        <Parameter name="token" value="<phones.stream_tokens token>"/>
        <Parameter name="agentId" value="agt_…"/> <Parameter name="callSid" value="CA…"/>
    </Connect>
    <Redirect>…/voice?after=ai</Redirect>        (or the IVR node's `next`)

(ws:// when PUBLIC_BASE_URL is http). The call row gets the agent and ai_status "connecting"; the
gateway moves it on (active, ended, failed). When the stream ends the provider runs the next verb:
`after_stream` hangs up after a normal end, and after a failure (ai_status "failed": the AI could
not be reached or broke off) apologises and goes on to the number's fallback, its voice routing
(assignments, the system phone, voicemail). Plivo gets the same answer as Plivo XML
(providers.plivo.markup: a bidirectional μ-law <Stream>), Telnyx as TeXML, whose <Stream> is told to
take our μ-law back as RTP (providers.telnyx.consts.STREAM_ATTRIBUTES; Telnyx's default is MP3).

A transfer (the gateway's tool) gives the live call new markup. Twilio and Telnyx take it inline;
Plivo fetches it from a URL (PhoneProvider.markup_by_url): `markup_link` is one of ours, on the
provider's webhook family (kind `markup`), carrying the TwiML signed and bound to the call for a
few minutes, and `served_markup` reads it back when the provider's signed request comes (webhooks.plivo
answers it as Plivo XML).

An org may have AI_MAX_CONCURRENT_CALLS calls connecting or active at once; the next caller gets
the fallback instead of the stream. A call that never reached the gateway stops counting once it
is older than the longest call an agent may have (plus a margin), so a lost stream cannot hold a
slot for ever.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from twilio.twiml.voice_response import VoiceResponse

from orgs.models import Org
from phones.calls import twiml
from phones.inbound import Webhook
from phones.models import Agent, Call
from phones.stream_tokens import mint_stream_token
from providers.telnyx.consts import STREAM_ATTRIBUTES as TELNYX_STREAM

logger = logging.getLogger(__name__)

STREAM_PATH = "/media/stream"
APOLOGY = "Sorry, our assistant is not available right now."
# A connecting/active AI call older than this no longer counts towards the limit (its stream was lost).
STALE_AFTER = timedelta(seconds=Agent.MAX_CALL_SECONDS + 300)
MARKUP_SALT = "phones.calls.ai.markup"
# Seconds between a transfer and the provider fetching the markup it names.
MARKUP_MAX_AGE = 300


def stream_url() -> str:
    """The gateway's WebSocket URL on PUBLIC_BASE_URL's host: wss:// for https, ws:// for http."""
    base = urlsplit(settings.PUBLIC_BASE_URL)
    scheme = "wss" if base.scheme == "https" else "ws"
    return f"{scheme}://{base.netloc}{base.path.rstrip('/')}{STREAM_PATH}"


def max_concurrent() -> int:
    return int(getattr(settings, "AI_MAX_CONCURRENT_CALLS", 10))


def live_ai_calls(org: Org, *, exclude_sid: str = "") -> int:
    """The org's AI calls connecting or active now (those counted against AI_MAX_CONCURRENT_CALLS)."""
    return (Call.objects.filter(org=org, ai_status__in=Call.AI_LIVE_STATUSES,
                                created_at__gte=timezone.now() - STALE_AFTER)
            .exclude(provider_sid=exclude_sid).count())


def _claim(hook: Webhook, agent: Agent) -> bool:
    """Mark the call as this agent's, connecting, unless the org is at its limit (False: nothing
    written). The org row is locked so two calls at once cannot both take the last slot."""
    sid = hook.call.sid
    with transaction.atomic():
        Org.objects.select_for_update().filter(pk=hook.org.pk).first()
        if live_ai_calls(hook.org, exclude_sid=sid) >= max_concurrent():
            logger.info("org %s at its AI call limit (%s): call %s goes to the fallback", hook.org.slug,
                        max_concurrent(), sid)
            return False
        Call.objects.filter(provider_sid=sid).update(agent=agent, ai_status=Call.AIStatus.CONNECTING,
                                                     updated_at=timezone.now())
    return True


def connect_agent(response: VoiceResponse, hook: Webhook, agent: Agent, *, then: str) -> bool:
    """Append the stream to `agent` for this call, then a redirect to `then`; False (nothing
    appended) when the org is at its AI call limit or the call cannot be streamed."""
    call = hook.call
    if call is None or not call.sid or hook.number is None or agent.org_id != hook.org.pk:
        return False
    twiml.call_remember(hook, at_once=True)  # _claim updates it next
    if not _claim(hook, agent):
        return False
    token = mint_stream_token(org_id=hook.org.pk, number_id=hook.number.pk, agent_id=agent.pk, call_sid=call.sid)
    stream = response.connect().stream(url=stream_url(), **(TELNYX_STREAM if hook.provider == "telnyx" else {}))
    stream.parameter(name="token", value=token)
    stream.parameter(name="agentId", value=agent.public_id)
    stream.parameter(name="callSid", value=call.sid)
    response.redirect(then, method="POST")
    return True


def after_link(hook: Webhook) -> str:
    """Where the call goes when the stream ends: back to our voice webhook (after_stream)."""
    return twiml.link("voice", hook.connection.type, after="ai")


def failed(hook: Webhook) -> bool:
    """Whether this call's AI session failed (the gateway marks it)."""
    sid = hook.call.sid if hook.call else ""
    return bool(sid) and Call.objects.filter(provider_sid=sid, ai_status=Call.AIStatus.FAILED).exists()


def apologise(response: VoiceResponse) -> None:
    response.say(APOLOGY)


def markup_link(connection_type: str, call_sid: str, twiml_text: str) -> str:
    """Our URL that serves `twiml_text` to the provider of `connection_type` for this call (on its
    webhook family, so the request is checked with its signature): the TwiML rides in the URL,
    signed (django.core.signing, compressed) together with the call SID."""
    value = signing.dumps({"call": call_sid, "twiml": twiml_text}, salt=MARKUP_SALT, compress=True)
    return twiml.link("markup", connection_type, m=value)


def served_markup(hook: Webhook) -> str | None:
    """The TwiML a markup link carries, when the link is ours, under MARKUP_MAX_AGE old and for the
    call asking (the verified webhook's call); None otherwise."""
    try:
        value = signing.loads(hook.query.get("m", ""), salt=MARKUP_SALT, max_age=MARKUP_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(value, dict) or hook.call is None or not hook.call.sid or value.get("call") != hook.call.sid:
        return None
    found = value.get("twiml")
    return found if isinstance(found, str) else None
