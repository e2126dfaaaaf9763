"""HTTP Basic auth as Twilio does it: account SID + auth token, or API key SID + secret."""
from __future__ import annotations

import base64
import binascii
import hmac

from django.http import HttpRequest

from sandbox.models import SandboxAccount, SandboxApiKey


def _basic_credentials(request: HttpRequest) -> tuple[str, str] | None:
    scheme, _, encoded = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


def account_for_credentials(request: HttpRequest) -> SandboxAccount | None:
    """The active account the request's credentials (its SID and auth token, or an API key of
    it) belong to; else None (Twilio's 20003)."""
    credentials = _basic_credentials(request)
    if credentials is None:
        return None
    username, password = credentials
    if username.startswith("SK"):
        key = SandboxApiKey.objects.select_related("account").filter(sid=username).first()
        if key is None or not hmac.compare_digest(key.secret, password):
            return None
        account = key.account
    else:
        account = SandboxAccount.objects.filter(sid=username).first()
        if account is None or not hmac.compare_digest(account.auth_token, password):
            return None
    return account if account.status == "active" else None


def authenticated_account(request: HttpRequest, account_sid: str) -> SandboxAccount | None:
    """The account in the URL, if the request's credentials belong to it; else None (Twilio's 20003)."""
    account = account_for_credentials(request)
    return account if account is not None and account.sid == account_sid else None
