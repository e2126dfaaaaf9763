"""The throttles of logins, refreshes and failed API-key attempts: DRF's cache throttles (the
`default` cache: Redis in production, so every process counts together), with their rates read
from Django settings (AUTH_THROTTLE_RATE per username or user, AUTH_ADDRESS_THROTTLE_RATE per
client address). Over the rate is a 429 with Retry-After; the window slides.
"""
from __future__ import annotations

import hashlib

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import UntypedToken


class SettingsRateThrottle(SimpleRateThrottle):
    """A DRF cache throttle whose rate is the Django setting `rate_setting`, read when the throttle
    is made (so a test's `settings` fixture applies; DRF's own rate table is read once at import)."""

    rate_setting = "AUTH_THROTTLE_RATE"

    def get_rate(self) -> str:
        return getattr(settings, self.rate_setting)

    def key_for(self, ident: str) -> str:
        # Hashed: a username can hold characters a cache key may not.
        return self.cache_format % {"scope": self.scope, "ident": hashlib.sha256(ident.encode()).hexdigest()}


class AddressThrottle(SettingsRateThrottle):
    rate_setting = "AUTH_ADDRESS_THROTTLE_RATE"

    def get_cache_key(self, request, view) -> str:
        return self.key_for(self.get_ident(request) or "")


class LoginAddressThrottle(AddressThrottle):
    scope = "login_address"


class LoginUsernameThrottle(SettingsRateThrottle):
    scope = "login_username"

    def get_cache_key(self, request, view) -> str | None:
        data = request.data if isinstance(request.data, dict) else {}
        username = data.get("username")
        return self.key_for(username.strip()) if isinstance(username, str) and username.strip() else None


class RefreshAddressThrottle(AddressThrottle):
    scope = "refresh_address"


class RefreshUserThrottle(SettingsRateThrottle):
    """Per user, as named by a refresh token with a valid signature: a forged token cannot spend
    someone else's allowance (it is counted by its address only)."""

    scope = "refresh_user"

    def get_cache_key(self, request, view) -> str | None:
        data = request.data if isinstance(request.data, dict) else {}
        raw = data.get("refresh")
        if not isinstance(raw, str):
            return None
        try:
            user_id = UntypedToken(raw).payload.get(jwt_settings.USER_ID_CLAIM)
        except TokenError:
            return None
        return self.key_for(str(user_id)) if user_id is not None else None


class APIKeyFailureThrottle(AddressThrottle):
    """Failed API-key attempts per client address. Only failures count; once over the rate, every
    key attempt from that address is a 429 until the window passes (checked before the key is,
    so a guess cannot be confirmed while throttled)."""

    scope = "api_key_failures"

    def wait_if_blocked(self, request: Request) -> float | None:
        self.key = self.get_cache_key(request, None)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        return self.wait() if len(self.history) >= self.num_requests else None

    def record_failure(self) -> None:
        self.throttle_success()  # adds this attempt to the address's history
