"""The sandbox's AI as a connection type, `sandbox-ai`: needs nothing, answers without any network.

Calls: the media gateway talks to the sandbox's realtime emulator. Texts: `text_reply` below, a
deterministic rule-based answer, so a text agent can be walked through locally with no account.
Registered by the sandbox app when Django starts (sandbox.apps), like the sandbox phone provider.
"""
from __future__ import annotations

import re

from core.serializers import StrictSerializer
from providers.base import AI, AccountInfo, AIService, ProviderKind, TextTurn, not_a_phone_provider

TYPE = "sandbox-ai"


class NothingSerializer(StrictSerializer):
    """No credentials and no configuration."""


def check(credentials: dict, public_config: dict) -> AccountInfo:
    return AccountInfo(account_id="sandbox-ai", friendly_name="Sandbox AI")


def text_reply(credentials: dict, public_config: dict, *, instructions: str, history: list[TextTurn],
               model: str = "") -> str:
    """A reply decided by simple rules on the last text, so tests and the walk-through can predict it."""
    last = next((turn.text for turn in reversed(history) if turn.role == "user"), "").strip()
    words = set(re.findall(r"[a-z]+", last.lower()))
    if not last or words & {"hello", "hi", "hey"}:
        return "Hello! How can I help?"
    if words & {"hours", "hour", "open"}:
        return "We are open Monday to Friday, 9am to 5pm."
    if words & {"human", "person", "someone"}:
        return "I will ask someone from the team to get back to you."
    return f'You said: "{last[:120]}". How else can I help?'


KIND = ProviderKind(type=TYPE, label="Sandbox AI (realtime emulator)", webhooks="", build=not_a_phone_provider,
                    credentials=NothingSerializer, public_config=NothingSerializer, category=AI,
                    ai=AIService(check=check, text_reply=text_reply))
