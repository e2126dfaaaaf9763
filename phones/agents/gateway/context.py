"""What a verified media stream is for, read from the database once, and what it leaves behind.

Synchronous (the consumer calls these through channels.db.database_sync_to_async)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from channels.db import DatabaseSyncToAsync
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from billing.services import usage_record
from orgs.models import ProviderConnection
from phones.messaging.callbacks import month_start
from phones.models import Agent, Call, PhoneNumber
from phones.stream_tokens import StreamClaims
from providers.base import PhoneProvider
from providers.registry import provider_for

SANDBOX_AI = "sandbox-ai"


def db(func):
    """`func` run in a worker thread, its database connection handled as Channels does. Not
    thread-sensitive: one call's database work never waits behind another's, nor behind a
    synchronous view of the same process (the staff's simulate page streams a call to this gateway)."""
    return DatabaseSyncToAsync(func, thread_sensitive=False)
OPENAI_REALTIME = "openai-realtime"


@dataclass(frozen=True)
class AgentSettings:
    pk: int
    name: str
    instructions: str
    greeting: str
    voice: str
    model: str
    language: str
    tools: tuple[str, ...]
    transfer_targets: dict[str, str]
    max_call_seconds: int


@dataclass
class StreamContext:
    """One AI call: its row, number, connections and agent, as the stream's token named them."""

    call_pk: int
    call_sid: str
    org_id: int
    number_pk: int
    number_e164: str
    caller: str
    agent: AgentSettings
    phone_connection: ProviderConnection
    ai_type: str
    ai_api_key: str
    ai_base_url: str
    provider: PhoneProvider | None = field(default=None, repr=False)


def sandbox_ai_base_url() -> str:
    """Where a sandbox-ai agent's realtime session goes: this platform's own emulator (sandbox.realtime)."""
    configured = getattr(settings, "SANDBOX_AI_BASE_URL", "")
    return (configured or f"{settings.PUBLIC_BASE_URL}/sandbox/ai/v1").rstrip("/")


def ai_endpoint(connection: ProviderConnection) -> tuple[str, str]:
    """(api key, base URL) of the agent's AI connection, for the openai SDK."""
    if connection.type == SANDBOX_AI:
        return "sandbox", sandbox_ai_base_url()
    from providers.openai.kind import client_settings

    found = client_settings(connection.credentials, connection.public_config or {})
    return found["api_key"], found["base_url"]


def stream_context(claims: StreamClaims, call_sid: str) -> StreamContext | None:
    """The call the token binds the stream to, or None when anything disagrees: the `start`'s call
    SID is not the token's, the number is not the org's or not on the agent's org, the call row
    is another org's, the agent is gone."""
    if not call_sid or claims["call"] != call_sid:
        return None
    number = (PhoneNumber.objects.select_related("connection")
              .filter(pk=claims["number"], org_id=claims["org"]).first())
    agent = (Agent.objects.select_related("connection")
             .filter(pk=claims["agent"], org_id=claims["org"]).first())
    if number is None or agent is None or number.connection_id is None:
        return None
    call = Call.objects.filter(provider_sid=call_sid, org_id=claims["org"]).first()
    if call is None or (call.phone_number_id not in (None, number.pk)):
        return None
    if call.ai_ended_at is not None:  # a stream for a call whose AI session is over is not reopened
        return None
    api_key, base_url = ai_endpoint(agent.connection)
    tools = tuple(t for t in (agent.tools or []) if t in Agent.TOOL_NAMES)
    targets = {str(k): str(v) for k, v in (agent.transfer_targets or {}).items()} if isinstance(
        agent.transfer_targets, dict) else {}
    return StreamContext(
        call_pk=call.pk, call_sid=call_sid, org_id=claims["org"], number_pk=number.pk, number_e164=number.e164,
        caller=call.from_number if call.direction == Call.Direction.INBOUND else call.to_number,
        agent=AgentSettings(pk=agent.pk, name=agent.name, instructions=agent.instructions or "",
                            greeting=agent.greeting or "", voice=agent.voice or "alloy", model=agent.model,
                            language=agent.language or "en", tools=tools, transfer_targets=targets,
                            max_call_seconds=agent.max_call_seconds or Agent.MAX_CALL_SECONDS),
        phone_connection=number.connection, ai_type=agent.connection.type, ai_api_key=api_key,
        ai_base_url=base_url)


def phone_provider(context: StreamContext) -> PhoneProvider:
    if context.provider is None:
        context.provider = provider_for(context.phone_connection)
    return context.provider


def ai_connecting(context: StreamContext) -> None:
    Call.objects.filter(pk=context.call_pk, ai_ended_at__isnull=True).update(
        agent_id=context.agent.pk, ai_status=Call.AIStatus.CONNECTING, updated_at=timezone.now())


def ai_active(context: StreamContext) -> None:
    now = timezone.now()
    Call.objects.filter(pk=context.call_pk, ai_ended_at__isnull=True).update(
        ai_status=Call.AIStatus.ACTIVE, ai_started_at=now, updated_at=now)


def ai_finish(context: StreamContext, *, status: str, transcript: list[dict], seconds: float) -> bool:
    """The AI session is over: its status, transcript and seconds on the call, and the seconds as
    usage, once. A second finish (a repeated stop, a late disconnect) writes nothing: the first
    one's conditional update is the guard; the usage key (`ai:<call SID>`) is the second."""
    now = timezone.now()
    whole = max(0, math.ceil(seconds))
    updated = Call.objects.filter(pk=context.call_pk, ai_ended_at__isnull=True).filter(
        Q(ai_status__in=Call.AI_LIVE_STATUSES) | Q(ai_status="")).update(
        ai_status=status, ai_ended_at=now, ai_transcript=transcript, ai_seconds=whole, updated_at=now)
    if not updated:
        return False
    if whole > 0:
        call = Call.objects.select_related("org", "phone_number").get(pk=context.call_pk)
        usage_record(org=call.org, phone_number=call.phone_number, kind="ai_second", quantity=whole,
                     period=month_start(), key=f"ai:{context.call_sid}")
    return True
