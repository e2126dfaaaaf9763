"""The short-lived signed URL of a recording's audio: `/recordings/{id}/media?expires=…&signature=…`.

The signature is the authorisation (a browser's <audio> sends no token): the hex HMAC-SHA256 of
"{public id}:{expires}" with a key derived from SECRET_KEY for this purpose alone (Django's
salted_hmac), so it cannot be moved to another recording or given a later expiry. `expires` is a
Unix time; RECORDING_URL_TTL seconds from signing (default 600).
"""
from __future__ import annotations

import time
from datetime import UTC, datetime

from django.conf import settings
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from core.errors import DomainError

SALT = "phones.recordings.media"
MAX_EXPIRES_DIGITS = 12


class BadSignature(DomainError):
    status_code = 403
    code = "bad_signature"


def ttl() -> int:
    return int(getattr(settings, "RECORDING_URL_TTL", 600))


def signature(public_id: str, expires: int) -> str:
    return salted_hmac(SALT, f"{public_id}:{expires}", algorithm="sha256").hexdigest()


def media_url(public_id: str, *, now: float | None = None) -> tuple[str, datetime]:
    """The absolute signed URL (on PUBLIC_BASE_URL) and when it stops working."""
    expires = int(now if now is not None else time.time()) + ttl()
    path = reverse("recording-media", args=[public_id])
    url = f"{settings.PUBLIC_BASE_URL}{path}?expires={expires}&signature={signature(public_id, expires)}"
    return url, datetime.fromtimestamp(expires, UTC)


def check(public_id: str, expires: str, given: str, *, now: float | None = None) -> None:
    """Raise BadSignature (403) unless `given` signs this id until `expires`, and that is still ahead."""
    if not expires.isdigit() or len(expires) > MAX_EXPIRES_DIGITS or not given:
        raise BadSignature("This recording link is not valid: ask the API for a new one")
    if not constant_time_compare(signature(public_id, int(expires)), given):
        raise BadSignature("This recording link is not valid: ask the API for a new one")
    if int(expires) < (now if now is not None else time.time()):
        raise BadSignature("This recording link has expired: ask the API for a new one", code="link_expired")
