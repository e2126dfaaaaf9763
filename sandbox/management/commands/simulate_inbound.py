"""python manage.py simulate_inbound sms|call --to +1… --from +1… [--body …] [--digits 1,2] [--dial-status no-answer]

Plays the caller against one of the sandbox's numbers: posts signed webhooks to our endpoints
in-process and prints each request and the TwiML we answered (see sandbox.simulate).
"""
from __future__ import annotations

import xml.dom.minidom

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox.simulate import SimulationError, run


class Command(BaseCommand):
    help = "Simulate an inbound SMS or call to a sandbox number and print the TwiML answered."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=["sms", "call"])
        parser.add_argument("--to", required=True, help="A number a sandbox account owns.")
        parser.add_argument("--from", dest="from_", default="+14155550111")
        parser.add_argument("--body", default="Hello")
        parser.add_argument("--digits", default="", help="Keys pressed at menus, comma separated: 1,2")
        parser.add_argument("--dial-status", default="", choices=["", "no-answer", "busy", "failed", "completed"],
                            help="Follow each <Dial> as if it ended so (default: stop at the first).")

    def handle(self, *args, kind: str, to: str, from_: str, body: str, digits: str, dial_status: str,
               **options) -> None:
        try:
            simulation = run(kind, to=to, from_=from_, body=body, dial_status=dial_status,
                             digits=[d.strip() for d in digits.split(",") if d.strip()])
        except SimulationError as exc:
            raise CommandError(str(exc)) from exc
        for step, exchange in enumerate(simulation.exchanges, 1):
            shown = {k: v for k, v in exchange.params.items() if k != "AccountSid"}
            self.stdout.write(self.style.MIGRATE_HEADING(f"{step}. POST {exchange.url} {shown} → {exchange.status}"))
            if exchange.body.startswith("<?xml"):
                self.stdout.write(xml.dom.minidom.parseString(exchange.body).toprettyxml(indent="  ").split("\n", 1)[1])
            else:
                self.stdout.write(exchange.body or "(empty)")
        if simulation.ended:
            self.stdout.write(f"Then: {simulation.ended}")
