"""Writes for orgs and provider connections."""
from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, DomainError, InvalidInput
from orgs.audit import audit_record
from orgs.models import Membership, Org, OrgAPIKey, ProviderConnection
from phones.models import PhoneNumber
from providers.base import DESTINATION_REFUSED, ProviderError
from providers.registry import build_provider, kind_for

logger = logging.getLogger(__name__)


def _destination_field(type_: str) -> str:
    destinations = kind_for(type_).secret_destinations()
    return f"publicConfig.{destinations[0]}" if destinations else "publicConfig"


def _check_with_provider(type_: str, credentials: dict, public_config: dict) -> str:
    """Ask the provider whether these credentials work; return the account id. Saves nothing."""
    kind = kind_for(type_)
    try:
        if kind.ai is not None:
            account = kind.ai.check(credentials, public_config)
        else:
            account = build_provider(type_, credentials, public_config).validate_credentials()
    except ProviderError as exc:
        if exc.code == DESTINATION_REFUSED:
            raise DomainError(exc.message, code=DESTINATION_REFUSED, field=_destination_field(type_)) from exc
        if exc.permanent:
            raise DomainError(f"The provider rejected these credentials: {exc.message}",
                              code="invalid_credentials", field="credentials", providerCode=exc.code) from exc
        raise
    return account.account_id


def connection_create(*, org: Org, type_: str, name: str, credentials: dict,
                      public_config: dict | None = None) -> ProviderConnection:
    public_config = public_config or {}
    new_credentials = kind_for(type_).new_credentials
    if new_credentials is not None and not credentials:
        credentials = new_credentials(org.slug)
    account_id = _check_with_provider(type_, credentials, public_config)
    connection = ProviderConnection(org=org, type=type_, name=name, account_id=account_id,
                                    public_config=public_config)
    connection.credentials = credentials
    connection.save()
    logger.info("connection %s (%s) created for org %s", connection.public_id, type_, org.slug)
    return connection


def connection_for_account(*, org: Org, type_: str, name: str, credentials: dict,
                           public_config: dict | None = None) -> tuple[ProviderConnection, bool]:
    """The org's active connection of this type to the account these credentials open (checked with
    the provider first, whichever it is), else a new one; and whether it is new. An existing
    connection is reused as it is: its stored credentials and configuration are not changed.
    Credentials (and, for a new connection, the public configuration) are validated as the
    integrations API validates them."""
    kind = kind_for(type_)
    checked = kind.credentials(data=credentials)
    if not checked.is_valid():
        field, messages = next(iter(checked.errors.items()))
        raise InvalidInput(f"credentials.{field}: {messages[0]}", code="invalid_credentials",
                           field=f"credentials.{field}")
    credentials = dict(checked.validated_data)
    account_id = _check_with_provider(type_, credentials, public_config or {})
    existing = (ProviderConnection.objects.filter(org=org, type=type_, account_id=account_id, is_active=True)
                .order_by("created_at", "id").first())
    if existing is not None:
        return existing, False
    config = kind.public_config(data=public_config or {})
    if not config.is_valid():
        field, messages = next(iter(config.errors.items()))
        raise InvalidInput(f"A new {kind.label} connection needs publicConfig.{field}: {messages[0]}",
                           code="invalid_public_config", field=f"publicConfig.{field}")
    public_config = dict(config.validated_data)
    return connection_create(org=org, type_=type_, name=name, credentials=credentials,
                             public_config=public_config), True


def _changed_destination(connection: ProviderConnection, public_config: dict | None) -> str | None:
    """The first public-config field deciding where the credentials go (a base URL) that
    `public_config` changes, or None."""
    if public_config is None:
        return None
    for name in kind_for(connection.type).secret_destinations():
        if (connection.public_config.get(name) or "") != (public_config.get(name) or ""):
            return name
    return None


def connection_update(*, connection: ProviderConnection, name: str | None = None,
                      credentials: dict | None = None, public_config: dict | None = None) -> ProviderConnection:
    """Changed credentials are merged over the stored ones and checked before anything is saved.

    Pointing the connection somewhere else (a base URL) needs the full credentials in the same
    call, and they replace the stored ones: the stored secrets are never sent to a new destination,
    so whoever changes it must already know them.
    """
    destination = _changed_destination(connection, public_config)
    if destination is not None:
        if not credentials or not kind_for(connection.type).credentials(data=credentials).is_valid():
            raise DomainError(f"Changing publicConfig.{destination} needs the connection's full credentials "
                              "in the same request", code="credentials_required",
                              field=f"publicConfig.{destination}")
    if credentials:
        merged = {**(connection.credentials if destination is None else {}), **credentials}
        new_config = public_config if public_config is not None else connection.public_config
        account_id = _check_with_provider(connection.type, merged, new_config)
        if connection.account_id and account_id != connection.account_id and connection.phone_numbers.filter(
                status__in=PhoneNumber.LIVE_STATUSES).exists():
            raise Conflict("These credentials belong to another provider account, and this connection has numbers",
                           field="credentials")
        connection.credentials = merged
        connection.account_id = account_id
    if name is not None:
        connection.name = name
    if public_config is not None:
        if not credentials and public_config != connection.public_config:
            # Public config can name provider-side objects (a Telnyx application or messaging
            # profile): check them before saving. (Not a new destination: that needs credentials.)
            _check_with_provider(connection.type, connection.credentials, public_config)
        connection.public_config = public_config
    connection.save()
    return connection


def connection_delete(*, connection: ProviderConnection) -> None:
    """Connections that numbers came through are kept for history, deactivated and wiped of secrets.
    An AI connection an agent uses cannot be removed until the agent uses another (or is deleted)."""
    if connection.agents.exists():
        raise Conflict("Agents use this AI connection: point them at another one or delete them first",
                       code="connection_in_use")
    if connection.phone_numbers.filter(status__in=PhoneNumber.LIVE_STATUSES).exists():
        raise Conflict("Release or move this connection's numbers before removing it", code="connection_in_use")
    if connection.phone_numbers.exists():
        connection.is_active = False
        connection.secret_blob = ""
        connection.save(update_fields=["is_active", "secret_blob", "updated_at"])
    else:
        connection.delete()


@transaction.atomic
def org_create(*, slug: str, name: str, owner_username: str, owner_password: str | None = None,
               owner_email: str = "") -> tuple[Org, bool]:
    """The org and its owner (created if needed). Returns (org, created)."""
    User = get_user_model()
    user, user_created = User.objects.get_or_create(username=owner_username, defaults={"email": owner_email})
    if user_created or owner_password:
        if owner_password:
            user.set_password(owner_password)
        else:
            user.set_unusable_password()
        user.save()
    org, created = Org.objects.get_or_create(slug=slug, defaults={"name": name})
    Membership.objects.update_or_create(user=user, org=org, defaults={"role": Membership.Role.OWNER})
    return org, created


@transaction.atomic
def api_key_create(*, org: Org, name: str, role: str, actor) -> tuple[OrgAPIKey, str]:
    """A new org API key and its plaintext, which is returned this once and stored only hashed.

    The key gets a principal of its own (a user with no password and no membership) that the
    requests made with it act as."""
    api_key = OrgAPIKey(org=org, name=name, role=role, created_by=actor)
    plaintext = OrgAPIKey.objects.assign_key(api_key)
    principal = get_user_model()(username=f"apikey.{api_key.prefix}", first_name=name[:150])
    principal.set_unusable_password()
    principal.save()
    api_key.user = principal
    api_key.save()
    audit_record(actor=actor, org=org, action="api_key.create", target=api_key,
                 after={"name": name, "role": role, "prefix": api_key.display_prefix})
    logger.info("API key %s (%s) created for org %s", api_key.display_prefix, role, org.slug)
    return api_key, plaintext


@transaction.atomic
def api_key_revoke(*, api_key: OrgAPIKey, actor) -> OrgAPIKey:
    """Revoked for good: its next request is a 401. The row and its principal stay, so what the
    key did is still attributed to it."""
    api_key = OrgAPIKey.objects.select_for_update().select_related("user").get(pk=api_key.pk)
    if not api_key.revoked:
        api_key.revoked = True
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked", "revoked_at"])
        api_key.user.is_active = False
        api_key.user.save(update_fields=["is_active"])
        audit_record(actor=actor, org=api_key.org, action="api_key.revoke", target=api_key,
                     before={"revoked": False}, after={"revoked": True})
    return api_key
