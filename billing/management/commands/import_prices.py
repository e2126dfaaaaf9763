"""Import the provider's number prices into the price table, with a markup (billing.pricing).

    python manage.py import_prices --connection int_… --country GB --country DE --markup 20
    python manage.py import_prices --connection int_… --all --markup 20 --dry-run

The connection (its public id, as the admin and /integrations show it) is the provider account
whose price list is read (Twilio Pricing v1 PhoneNumbers/Countries). Prints each row written and
what was skipped; `--dry-run` writes nothing.
"""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.pricing import prices_import
from core.display import money
from core.errors import DomainError
from orgs.models import ProviderConnection
from providers.base import ProviderError


class Command(BaseCommand):
    help = "Import the provider's monthly number prices (per country and type) into the price table, with a markup."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--connection", required=True, help="The public id (int_…) of the connection to read.")
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--country", action="append", dest="countries", metavar="ISO",
                           help="A country to import (repeat, or comma-separate).")
        which.add_argument("--all", action="store_true", help="Every country the provider prices numbers in.")
        parser.add_argument("--markup", required=True, help="Percent added to the provider's price, e.g. 20.")
        parser.add_argument("--dry-run", action="store_true", help="Show what would change; write nothing.")

    def handle(self, *args, connection: str, countries: list[str] | None, all: bool, markup: str,
               dry_run: bool, **options) -> None:
        found = ProviderConnection.objects.filter(public_id=connection, is_active=True).first()
        if found is None:
            raise CommandError(f"No active connection {connection!r}")
        try:
            result = prices_import(connection=found, countries=None if all else ",".join(countries or []),
                                   markup=markup, dry_run=dry_run)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        except ProviderError as exc:
            raise CommandError(f"The provider failed: {exc.message}") from exc
        for label, rows in (("created", result.created), ("updated", result.updated)):
            for price in rows:
                self.stdout.write(f"{label:8} {price.country} {price.number_type:9} "
                                  f"{money(price.monthly_fee, price.currency)}/month "
                                  f"(provider {money(price.provider_cost, price.currency)} "
                                  f"+ {price.markup_percent:.2f}%)")
        for reason in result.skipped:
            self.stdout.write(f"skipped  {reason}")
        self.stdout.write(("Dry run, nothing written: " if dry_run else "") + result.summary())
