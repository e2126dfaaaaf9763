"""Softphone: the Voice SDK identity of a user, access tokens, and presence."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

from core.errors import DomainError
from orgs.models import Org
from orgs.selectors import connection_default
from phones.models import SoftphonePresence

TOKEN_TTL_SECONDS = 3600


def identity_for(user_id: int) -> str:
    """The client identity a user's softphone registers with, and that calls to them <Dial>.

    Built from the user's id, not the username: usernames can change, and Twilio allows only
    letters, digits and _ in an identity.
    """
    return f"user_{user_id}"


def softphone_token(*, org: Org, user: AbstractBaseUser) -> dict:
    """A Voice SDK access token for `user`: outgoing calls through the connection's TwiML app,
    incoming calls to their identity. Signed with the connection's API key secret."""
    connection = connection_default(org=org)
    credentials = connection.credentials
    missing = [name for name, value in (("apiKeySid", credentials.get("apiKeySid")),
                                        ("apiKeySecret", credentials.get("apiKeySecret")),
                                        ("twimlAppSid", connection.public_config.get("twimlAppSid")))
               if not value]
    if missing:
        raise DomainError(f"The softphone needs {', '.join(missing)} on the {connection.name!r} connection "
                          "(credentials apiKeySid/apiKeySecret, publicConfig twimlAppSid)",
                          code="softphone_not_configured", field=missing[0], missing=missing)
    identity = identity_for(user.pk)
    token = AccessToken(credentials["accountSid"], credentials["apiKeySid"], credentials["apiKeySecret"],
                        identity=identity, ttl=TOKEN_TTL_SECONDS)
    token.add_grant(VoiceGrant(outgoing_application_sid=connection.public_config["twimlAppSid"],
                               incoming_allow=True))
    return {"token": token.to_jwt(), "identity": identity, "ttl": TOKEN_TTL_SECONDS}


def presence_set(*, org: Org, user: AbstractBaseUser, status: str) -> SoftphonePresence:
    presence, _ = SoftphonePresence.objects.update_or_create(org=org, user=user, defaults={"status": status})
    return presence


def presence_body(user: AbstractBaseUser, presence: SoftphonePresence | None) -> dict:
    """A member's presence as the API shows it (offline when never set)."""
    return {"user": user.username, "identity": identity_for(user.pk),
            "status": presence.status if presence is not None else SoftphonePresence.Status.OFFLINE,
            "updatedAt": presence.updated_at if presence is not None else None}


def presence_list(*, org: Org) -> list[dict]:
    """Every member of the org with their presence (offline when never set). Two queries."""
    users = get_user_model().objects.filter(memberships__org=org).order_by("username")
    known = {p.user_id: p for p in SoftphonePresence.objects.filter(org=org)}
    return [presence_body(user, known.get(user.pk)) for user in users]
