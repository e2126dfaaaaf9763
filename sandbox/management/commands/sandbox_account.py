"""python manage.py sandbox_account [--org SLUG] [--base-url URL]

Prints a sandbox account's SID and auth token, for any Twilio client pointed at /sandbox/ (see the
README, "Point any Twilio client at the sandbox"). Without --org: the account kept for such clients,
created on first use. With --org: the account behind that org's sandbox connection.
"""
from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from orgs.models import Org, ProviderConnection
from sandbox.models import SandboxAccount
from sandbox.services import sandbox_account_create

CLIENT_ACCOUNT_NAME = "Any Twilio client"


class Command(BaseCommand):
    help = "Print a sandbox account's SID and auth token (creating one if needed) for a Twilio client."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", help="The org whose sandbox connection's account to print.")
        parser.add_argument("--base-url", default="",
                            help="Where the sandbox is served (default: PUBLIC_BASE_URL + /sandbox).")

    def handle(self, *args, org: str | None, base_url: str, **options) -> None:
        account = self._of_org(org) if org else self._for_clients()
        base = base_url or f"{settings.PUBLIC_BASE_URL}/sandbox"
        self.stdout.write(f"TWILIO_ACCOUNT_SID={account.sid}\nTWILIO_AUTH_TOKEN={account.auth_token}\n"
                          f"TWILIO_BASE_URL={base}")

    @staticmethod
    def _for_clients() -> SandboxAccount:
        account = (SandboxAccount.objects.filter(friendly_name=CLIENT_ACCOUNT_NAME, status="active")
                   .order_by("pk").first())
        return account or sandbox_account_create(friendly_name=CLIENT_ACCOUNT_NAME)

    @staticmethod
    def _of_org(slug: str) -> SandboxAccount:
        found = Org.objects.filter(slug=slug).first()
        if found is None:
            raise CommandError(f"No org {slug!r}")
        connection = (ProviderConnection.objects.filter(org=found, type=ProviderConnection.Type.SANDBOX, is_active=True)
                      .order_by("created_at", "id").first())
        if connection is None:
            raise CommandError(f"Org {slug!r} has no sandbox connection (create_org --sandbox, or add a "
                               "sandbox-provider connection)")
        account = SandboxAccount.objects.filter(sid=connection.credentials.get("accountSid", "")).first()
        if account is None:
            raise CommandError(f"The sandbox account of org {slug!r}'s connection no longer exists")
        return account
