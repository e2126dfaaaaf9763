from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from orgs.models import ProviderConnection
from orgs.services import connection_create, org_create


class Command(BaseCommand):
    help = "Create an org with its owner (created if needed), optionally a sandbox connection and an opening balance."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--owner", required=True, help="Username of the owner (created if missing).")
        parser.add_argument("--password", help="Password for the owner (set when given). Without one, a new owner "
                                                 "cannot log in until a password is set (changepassword).")
        parser.add_argument("--name", help="Display name (default: the slug).")
        parser.add_argument("--balance", type=int, default=0, help="Opening balance in minor units (cents).")
        parser.add_argument("--sandbox", action="store_true", help="Connect a new sandbox Twilio account.")

    def handle(self, *args, slug, owner, password, name, balance, sandbox, **options):
        from billing.services import balance_get, ledger_topup

        if balance < 0:
            raise CommandError("--balance must be zero or more (minor units)")
        with transaction.atomic():
            org, created = org_create(slug=slug, name=name or slug, owner_username=owner, owner_password=password)
        self.stdout.write(f"org {org.slug}: {'created' if created else 'exists'}, owner {owner}")
        if not get_user_model().objects.get(username=owner).has_usable_password():
            self.stdout.write(self.style.WARNING(
                f"  {owner} has no password, so cannot log in (admin or API) until one is set: "
                f".venv/bin/python manage.py changepassword {owner}"))
        if sandbox and not ProviderConnection.objects.filter(org=org, type=ProviderConnection.Type.SANDBOX,
                                                             is_active=True).exists():
            connection = connection_create(org=org, type_=ProviderConnection.Type.SANDBOX,
                                           name="Sandbox Twilio", credentials={})
            self.stdout.write(f"sandbox connection {connection.public_id} (account {connection.account_id})")
        if balance and created:
            ledger_topup(org=org, amount=balance, reason="Opening balance")
        self.stdout.write(f"balance: {balance_get(org=org).balance} {org.currency} (minor units)")
