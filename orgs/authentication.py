"""Org API keys as a DRF authentication class: `Authorization: Bearer tpk_<prefix>.<secret>`.

Told from a JWT by the `tpk_` prefix (a JWT starts with "eyJ"); anything else is left to the next
class (simplejwt's). A valid key makes the request its own principal (`OrgAPIKey.user`) with the
key as `request.auth`; orgs.scoping gives it the key's org and role. Failed attempts are counted
per client address and throttled like logins (orgs.throttles.APIKeyFailureThrottle).

Kept apart from orgs.auth: DRF imports authentication classes while `rest_framework.views` loads,
so this module must not import any view.
"""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from orgs.models import API_KEY_MARKER, OrgAPIKey
from orgs.throttles import APIKeyFailureThrottle


class OrgAPIKeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer tpk_<prefix>.<secret>`. Anything else is left to the next class."""

    keyword = "Bearer"

    def authenticate(self, request: Request):
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() != self.keyword.lower().encode():
            return None
        raw = parts[1].decode("latin-1")
        if not raw.startswith(API_KEY_MARKER):
            return None  # a JWT
        throttle = APIKeyFailureThrottle()
        wait = throttle.wait_if_blocked(request)
        if wait is not None:
            raise exceptions.Throttled(wait)
        try:
            api_key = OrgAPIKey.objects.get_from_key(raw)
        except OrgAPIKey.DoesNotExist:
            api_key = None
        if api_key is None or not api_key.user.is_active:
            throttle.record_failure()
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked API key."), code="invalid_api_key")
        api_key.touch()
        return api_key.user, api_key

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'


def api_key_of(request: Request) -> OrgAPIKey | None:
    """The org API key the request authenticated with, if it did with one."""
    auth = getattr(request, "_auth", None)
    return auth if isinstance(auth, OrgAPIKey) else None
