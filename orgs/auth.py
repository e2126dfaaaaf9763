"""Sessions: who a person is, and when that ends.

People log in with `POST /api/auth/token` and refresh with `POST /api/auth/token/refresh`:
simplejwt's views, subclassed so that a refresh token is used once, even by concurrent requests,
and both are throttled per username (per user, for a refresh) and per client address
(orgs.throttles). `refresh_tokens_revoke` ends a user's sessions; orgs.signals calls it when
their password changes, they are deactivated or they lose a membership.

Servers use org API keys instead (orgs.authentication); their OpenAPI security scheme is here.
"""
from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from orgs.models import API_KEY_MARKER
from orgs.throttles import LoginAddressThrottle, LoginUsernameThrottle, RefreshAddressThrottle, RefreshUserThrottle


class SingleUseRefreshToken(RefreshToken):
    """A refresh token blacklisted by inserting its blacklist row, never by get-or-create: of
    concurrent uses, one inserts the row and the rest hit the unique constraint (on PostgreSQL they
    wait for the first to commit), so exactly one refresh succeeds."""

    def blacklist(self) -> BlacklistedToken:
        outstanding = self.outstand()  # simplejwt's get-or-create of the token's record
        token = outstanding[0] if isinstance(outstanding, tuple) else outstanding
        try:
            with transaction.atomic():
                return BlacklistedToken.objects.create(token=token)
        except IntegrityError:
            raise TokenError(_("Token is blacklisted"))


class AtomicTokenRefreshSerializer(TokenRefreshSerializer):
    token_class = SingleUseRefreshToken

    def validate(self, attrs):
        # The old token's blacklisting and the new token's record commit together, or neither does.
        with transaction.atomic():
            return super().validate(attrs)


class TokenObtainView(TokenObtainPairView):
    throttle_classes = [LoginAddressThrottle, LoginUsernameThrottle]


class TokenRefreshOnceView(TokenRefreshView):
    serializer_class = AtomicTokenRefreshSerializer
    throttle_classes = [RefreshAddressThrottle, RefreshUserThrottle]


def refresh_tokens_revoke(*, user_id: int) -> int:
    """Blacklist every unexpired refresh token of the user; returns how many were newly blacklisted.
    Their access tokens die with their lifetime (ACCESS_TOKEN_LIFETIME), or at once for a
    deactivated user (simplejwt checks is_active) or a removed member (scoping checks membership)."""
    live = OutstandingToken.objects.filter(user_id=user_id, expires_at__gt=timezone.now(),
                                           blacklistedtoken__isnull=True)
    rows = [BlacklistedToken(token=token) for token in live]
    BlacklistedToken.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


class OrgAPIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "orgs.authentication.OrgAPIKeyAuthentication"
    name = "orgApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": f"{API_KEY_MARKER}<prefix>.<secret>",
                "description": "An org API key (`POST /api-keys`): acts in its own org with the key's role; "
                               "no orgid header needed (one naming another org is a 403)."}
