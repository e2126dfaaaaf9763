"""python manage.py simulate_inbound sms|call --to +1… --from +1… [--body …] [--digits 1,2] [--dial-status no-answer]
   [--say "I want sales" --say "thanks"] [--pace 1]

Plays the caller against one of the sandbox's numbers: posts signed webhooks to our endpoints
in-process and prints each request and the TwiML we answered (see sandbox.simulate). A call answered
by an AI agent (<Connect><Stream>) opens the media stream to the gateway over a real WebSocket, as
Twilio does (the server must be running: `make run`), says each --say, then prints the
conversation's transcript and the tool calls as the gateway stored them on the call.
"""
from __future__ import annotations

import xml.dom.minidom

from django.core.management.base import BaseCommand, CommandError, CommandParser

from phones.models import Call
from sandbox.simulate import SimulationError, run


class Command(BaseCommand):
    help = "Simulate an inbound SMS or call to a sandbox number and print the TwiML answered."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=["sms", "call"])
        parser.add_argument("--to", required=True, help="A number a sandbox account owns.")
        parser.add_argument("--from", dest="from_", default="+14155550111")
        parser.add_argument("--body", default="Hello")
        parser.add_argument("--digits", default="", help="Keys pressed at menus, comma separated: 1,2")
        parser.add_argument("--say", action="append", default=[],
                            help="AI calls: what the caller says, one turn each (repeat the option).")
        parser.add_argument("--pace", type=float, default=1.0,
                            help="AI calls: 1 sends the audio in real time, 0.1 ten times faster, 0 at once.")
        parser.add_argument("--dial-status", default="", choices=["", "no-answer", "busy", "failed", "completed"],
                            help="Follow each <Dial> as if it ended so (default: stop at the first).")

    def handle(self, *args, kind: str, to: str, from_: str, body: str, digits: str, dial_status: str,
               say: list[str], pace: float, **options) -> None:
        try:
            simulation = run(kind, to=to, from_=from_, body=body, dial_status=dial_status, say=say, pace=pace,
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
        for stream in simulation.streams:
            report = stream.report
            self.stdout.write(self.style.MIGRATE_HEADING(
                f"Media stream {stream.url}: {report.frames_sent} frames sent, {report.frames_heard} heard, "
                f"{report.marks_echoed} marks played, {report.clears} clears; {report.ended}"))
            for words in report.heard:
                self.stdout.write(f"  heard: {words}")
        if simulation.streams:
            call = Call.objects.filter(provider_sid=simulation.call_sid).first()
            if call is not None:
                self.stdout.write(self.style.MIGRATE_HEADING(
                    f"Transcript of {call.public_id} (AI {call.ai_status or 'not started'}, {call.ai_seconds}s):"))
                for turn in call.ai_transcript:
                    self.stdout.write(f"  {turn['at']}  {turn['role']:>6}: {turn['text']}")
        if simulation.ended:
            self.stdout.write(f"Then: {simulation.ended}")
