"""python manage.py sandbox_trunk NAME [--org SLUG | --account SID] [--domain PREFIX] [--sip-url URL ...]

Creates a SIP trunk in a sandbox account, as a Twilio user would in the console (the emulator
does not take POST /v1/Trunks): the org's connection then finds it on GET /trunks (or
POST /trunks/sync), and numbers can be assigned to it.
"""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox.management.commands.sandbox_account import Command as AccountCommand
from sandbox.models import SandboxAccount
from sandbox.trunking import sandbox_trunk_create


class Command(BaseCommand):
    help = "Create a SIP trunk (with its origination URLs) in a sandbox account."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The trunk's friendly name.")
        parser.add_argument("--org", help="The org whose sandbox connection's account gets the trunk.")
        parser.add_argument("--account", help="A sandbox account SID (instead of --org).")
        parser.add_argument("--domain", default="", help="Termination domain prefix (<prefix>.pstn.twilio.com).")
        parser.add_argument("--sip-url", action="append", default=[], dest="sip_urls",
                            help="An origination URL (sip:…); repeat for several, in priority order.")

    def handle(self, *args, name: str, org: str | None, account: str | None, domain: str, sip_urls: list[str],
               **options) -> None:
        if bool(org) == bool(account):
            raise CommandError("Give --org or --account")
        if org:
            found = AccountCommand._of_org(org)
        else:
            found = SandboxAccount.objects.filter(sid=account).first()
            if found is None:
                raise CommandError(f"No sandbox account {account!r}")
        for url in sip_urls:
            if not url.startswith(("sip:", "sips:")):
                raise CommandError(f"An origination URL is a sip: URI, not {url!r}")
        trunk = sandbox_trunk_create(account=found, friendly_name=name, domain_prefix=domain, sip_urls=sip_urls)
        self.stdout.write(f"trunk {trunk.sid} {trunk.friendly_name!r} ({trunk.domain_name}) in {found.sid}")
