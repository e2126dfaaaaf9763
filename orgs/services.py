"""Writes for orgs and provider connections."""
from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.db import transaction

from core.errors import Conflict, DomainError
from orgs.models import Membership, Org, ProviderConnection
from phones.models import PhoneNumber
from providers.base import ProviderError
from providers.registry import build_provider, kind_for

logger = logging.getLogger(__name__)


def _check_with_provider(type_: str, credentials: dict, public_config: dict) -> str:
    """Ask the provider whether these credentials work; return the account id. Saves nothing."""
    try:
        account = build_provider(type_, credentials, public_config).validate_credentials()
    except ProviderError as exc:
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


def connection_update(*, connection: ProviderConnection, name: str | None = None,
                      credentials: dict | None = None, public_config: dict | None = None) -> ProviderConnection:
    """Changed credentials are merged over the stored ones and checked before anything is saved."""
    if credentials:
        merged = {**connection.credentials, **credentials}
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
            # Public config can name provider-side objects (an API base URL, a Telnyx
            # application or messaging profile): check them before saving.
            _check_with_provider(connection.type, connection.credentials, public_config)
        connection.public_config = public_config
    connection.save()
    return connection


def connection_delete(*, connection: ProviderConnection) -> None:
    """Connections that numbers came through are kept for history, deactivated and wiped of secrets."""
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
