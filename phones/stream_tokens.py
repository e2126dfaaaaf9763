"""The signed, short-lived token that lets one media stream into the gateway (`/media/stream`).

Voice answering (phones.calls.ai) mints it into the `<Connect><Stream>` it returns, as the Stream's
custom parameter `token`; the gateway (phones.agents.gateway*) reads it from the `start` message
and closes the socket (policy violation) when it is missing, tampered with or expired. It lives
in the kernel so that both can import it.

Claims (a dict, what `read_stream_token` returns):

    {"org": <Org pk: int>, "number": <PhoneNumber pk: int>, "agent": <Agent pk: int>,
     "call": <the provider's call SID: str>, "exp": <expiry, Unix seconds: int>}

Signed with django.core.signing (HMAC-SHA256 keyed by SECRET_KEY, salted for this use only), so a
token minted for anything else (a session, another signer) is not accepted here.
"""
from __future__ import annotations

import time
from typing import TypedDict

from django.conf import settings
from django.core import signing

SALT = "phones.stream_tokens"
DEFAULT_TTL_SECONDS = 60


class StreamClaims(TypedDict):
    org: int
    number: int
    agent: int
    call: str
    exp: int


def default_ttl() -> int:
    """Seconds between the answer and the stream's `start` we accept (AI_STREAM_TOKEN_TTL)."""
    return int(getattr(settings, "AI_STREAM_TOKEN_TTL", DEFAULT_TTL_SECONDS))


def mint_stream_token(*, org_id: int, number_id: int, agent_id: int, call_sid: str,
                      ttl_seconds: int | None = None) -> str:
    ttl = default_ttl() if ttl_seconds is None else ttl_seconds
    claims: StreamClaims = {"org": int(org_id), "number": int(number_id), "agent": int(agent_id),
                            "call": str(call_sid), "exp": int(time.time()) + int(ttl)}
    return signing.dumps(claims, salt=SALT, compress=False)


def read_stream_token(token: str | None) -> StreamClaims | None:
    """The claims, or None when the token is missing, malformed, tampered with or expired."""
    if not token or not isinstance(token, str) or len(token) > 1000:
        return None
    try:
        claims = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(claims, dict):
        return None
    try:
        parsed: StreamClaims = {"org": int(claims["org"]), "number": int(claims["number"]),
                                "agent": int(claims["agent"]), "call": str(claims["call"]),
                                "exp": int(claims["exp"])}
    except (KeyError, TypeError, ValueError):
        return None
    if parsed["exp"] < time.time():
        return None
    return parsed
