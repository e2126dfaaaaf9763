"""python manage.py seed_demo: what `make run` shows on a fresh machine, seeded idempotently.

A staff superuser, org `demo` it owns with a sandbox connection and a balance, and a demo number
with something on it, all through the services the API uses (nothing written by hand): the number
bought from the sandbox (the purchase job run eagerly, here), a small IVR flow and SMS rules on it,
and a few texts and calls the sandbox plays in (sandbox.simulate), so the inbox, the messages and the
calls are not empty. Re-running changes nothing that exists: no second number, the flow and rules
set only when the number has none, traffic played only on a number that has none.
It also makes one SIP trunk in the demo's sandbox account, which GET /trunks lists.
"""
from __future__ import annotations

import json
import logging
import os
import shlex
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from config.celery import app as celery_app
from orgs.models import Org, ProviderConnection
from orgs.selectors import connection_default
from phones.calls.routing import routing_update
from phones.messaging.services import sms_rules_update
from phones.models import Call, Job, Message, PhoneNumber
from phones.numbers.services import phone_number_purchase, phone_number_set_routing_mode
from phones.routing import routing_get_or_create
from phones.trunks.services import trunks_sync
from providers.base import ProviderError, SearchCriteria
from providers.registry import provider_for
from sandbox.models import SandboxAccount
from sandbox.simulate import SimulationError, simulate_call, simulate_sms
from sandbox.trunking import sandbox_trunk_create

DEMO_PURPOSE = "demo"
DEMO_AREA_CODE = "415"
DEMO_TRUNK = "Demo SIP trunk"
FORWARD_TO = "+14155550123"
DEMO_FLOW = {
    "entry": "main",
    "fallback": "voicemail",
    "maxRetries": 1,
    "nodes": {
        "main": {"type": "menu", "say": "Thanks for calling the demo line. For our hours press 1, "
                                        "to get our address by text press 2, to leave a message press 9.",
                 "options": {"1": "hours", "2": "text-address", "9": "voicemail"}},
        "hours": {"type": "hangup", "say": "We are open nine to five, Monday to Friday. Goodbye."},
        "text-address": {"type": "send-sms", "to": "caller", "body": "Demo & Co, 1 Market St, San Francisco.",
                         "next": "goodbye"},
        "voicemail": {"type": "voicemail", "say": "Please leave a message after the tone.", "maxLength": 120},
        "goodbye": {"type": "hangup", "say": "We have texted you our address. Goodbye."},
    },
}
DEMO_SMS_RULES = [
    {"type": "auto-reply", "match": {"keywords": ["hours", "open"], "mode": "contains"},
     "params": {"template": "Hi! {{orgName}} is open 9-5 Mon-Fri."}},
    {"type": "forward-sms", "match": {"keywords": ["urgent"], "mode": "contains"}, "params": {"to": FORWARD_TO}},
    {"type": "add-tag", "params": {"tag": "texted-in"}},
]
# (kind, caller, body or keys pressed)
DEMO_TRAFFIC = [
    ("sms", "+14155550111", "Hi, what are your opening hours?"),
    ("sms", "+14155550112", "URGENT: my order has not arrived"),
    ("call", "+14155550113", ["1"]),
    ("call", "+14155550114", ["2"]),
]


@contextmanager
def tasks_run_here():
    """Celery tasks run in this process while seeding, broker or not: the demo is ready when this ends.
    Their "Task … succeeded" lines are left out of what the command prints (failures still show)."""
    previous = celery_app.conf.task_always_eager
    trace = logging.getLogger("celery.app.trace")
    previous_level = trace.level
    celery_app.conf.task_always_eager = True
    trace.setLevel(logging.WARNING)
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = previous
        trace.setLevel(previous_level)


class Command(BaseCommand):
    help = ("Idempotently seed the demo: a staff superuser, org `demo` it owns, a sandbox connection, a balance, "
            "and a sandbox number with an IVR flow, SMS rules and a few simulated texts and calls.")

    def add_arguments(self, parser):
        parser.add_argument("--username", default=os.environ.get("DEMO_USERNAME", "admin"),
                            help="The staff user (default: DEMO_USERNAME, else admin).")
        parser.add_argument("--password", default=os.environ.get("DEMO_PASSWORD", "admin-demo-password"),
                            help="Its password, set only when the user is created (default: DEMO_PASSWORD).")
        parser.add_argument("--balance", type=int, default=10_000, help="Opening balance, minor units.")
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"), help="The port the URLs shown use.")
        parser.add_argument("--no-number", action="store_true",
                            help="Seed no demo number (and so no flow, rules or traffic).")

    def handle(self, *args, username, password, balance, port, no_number, **options):
        User = get_user_model()
        user, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
        if created:
            user.set_password(password)
        user.is_staff = user.is_superuser = True
        user.save()
        call_command("create_org", "demo", owner=username, name="Demo", balance=balance, sandbox=True,
                     stdout=self.stdout)
        org = Org.objects.get(slug="demo")
        self._demo_trunk(org)
        number = None
        if not no_number:
            with tasks_run_here():
                number = self._demo_number(org, user)
                if number is not None:
                    self._configure(number)
                    self._traffic(number)
        self._summary(username, password, created or user.check_password(password), port, number)

    # ---------------------------------------------------------------- the demo SIP trunk

    def _demo_trunk(self, org: Org) -> None:
        """One SIP trunk in the demo's sandbox account, listed on GET /trunks (no number is on it)."""
        connection = connection_default(org=org)
        account = SandboxAccount.objects.filter(sid=connection.account_id).first()
        if connection.type != ProviderConnection.Type.SANDBOX or account is None:
            return
        if not account.trunks.exists():
            sandbox_trunk_create(account=account, friendly_name=DEMO_TRUNK, domain_prefix=f"demo-{account.sid[-6:]}",
                                 sip_urls=["sip:pbx.demo.example.com:5060"])
        trunks_sync(org=org)
        self.stdout.write(f"demo SIP trunk: {DEMO_TRUNK!r} in the sandbox account (GET /trunks)")

    # ---------------------------------------------------------------- the demo number

    def _demo_number(self, org: Org, user) -> PhoneNumber | None:
        number = (PhoneNumber.objects.filter(org=org, purpose=DEMO_PURPOSE, status__in=PhoneNumber.LIVE_STATUSES)
                  .order_by("created_at").first())
        if number is not None:
            self.stdout.write(f"demo number {number.e164}: exists ({number.status})")
            return number if number.status == PhoneNumber.Status.ACTIVE else None
        connection = connection_default(org=org)
        if connection.type != ProviderConnection.Type.SANDBOX:
            self.stdout.write(f"demo number: none bought (the org's first connection is {connection.type}, "
                              "and the demo buys only from the sandbox)")
            return None
        try:
            offers = provider_for(connection).search_available(SearchCriteria(
                area_code=DEMO_AREA_CODE, sms_enabled=True, voice_enabled=True, limit=1))
        except ProviderError as exc:
            self.stderr.write(f"demo number: the sandbox search failed: {exc}")
            return None
        if not offers:
            self.stderr.write(f"demo number: the sandbox has no {DEMO_AREA_CODE} number left to sell")
            return None
        job = phone_number_purchase(org=org, user=user, e164=offers[0].e164, friendly_name="Demo line",
                                    purpose=DEMO_PURPOSE)
        job.refresh_from_db()
        number = PhoneNumber.objects.get(pk=job.phone_number_id)
        if job.status != Job.Status.SUCCEEDED or number.status != PhoneNumber.Status.ACTIVE:
            self.stderr.write(f"demo number {number.e164}: purchase {job.status} ({job.error or 'no error'})")
            return None
        self.stdout.write(f"demo number {number.e164}: bought from the sandbox (job {job.public_id})")
        return number

    def _configure(self, number: PhoneNumber) -> None:
        row = routing_get_or_create(number=number)
        if not row.ivr_flow:
            routing_update(number=number, changes={"ivrFlow": DEMO_FLOW})
            phone_number_set_routing_mode(number=number, mode=PhoneNumber.RoutingMode.IVR)
            self.stdout.write("  IVR flow: set (press 1 hours, 2 address by text, 9 voicemail); routing mode ivr")
        else:
            self.stdout.write("  IVR flow: exists, kept")
        if not row.sms_rules:
            sms_rules_update(number=number, rules=DEMO_SMS_RULES)
            self.stdout.write("  SMS rules: set (auto-reply on hours/open, forward urgent texts, tag every sender)")
        else:
            self.stdout.write("  SMS rules: exist, kept")

    def _traffic(self, number: PhoneNumber) -> None:
        if Message.objects.filter(phone_number=number).exists() or Call.objects.filter(phone_number=number).exists():
            self.stdout.write("  texts and calls: the number has some, none played")
            return
        try:
            for kind, caller, what in DEMO_TRAFFIC:
                if kind == "sms":
                    simulate_sms(to=number.e164, from_=caller, body=what)
                else:
                    simulate_call(to=number.e164, from_=caller, digits=what)
        except SimulationError as exc:
            self.stderr.write(f"  texts and calls: the simulation stopped: {exc}")
            return
        texts = Message.objects.filter(phone_number=number).count()
        calls = Call.objects.filter(phone_number=number).count()
        self.stdout.write(f"  texts and calls: played by the sandbox ({texts} texts, {calls} calls)")

    # ---------------------------------------------------------------- what to do next

    def _summary(self, username: str, password: str, password_known: bool, port: str,
                 number: PhoneNumber | None) -> None:
        base = f"http://127.0.0.1:{port}"
        if password_known:
            login, curl_password, reset = f"{username} / {password}", password, ""
        else:
            login = f"{username} / (not the password given here: it was set or changed before)"
            curl_password = "YOUR_PASSWORD"
            reset = f"\n  New password: .venv/bin/python manage.py changepassword {username}"
        shown_number = ""
        if number is not None:
            shown_number = f"\n  Demo number:  {number.e164} ({number.public_id}): IVR flow, SMS rules, texts, calls"
        credentials = shlex.quote(json.dumps({"username": username, "password": curl_password}))
        self.stdout.write(self.style.SUCCESS(f"""
Demo ready.
  Staff login (admin and API): {login}{reset}
  Admin:        {base}/admin/
  API docs:     {base}/api/docs
  Health:       {base}/healthz
  Org header:   orgid: demo{shown_number}
Try:
  TOKEN=$(curl -s -X POST {base}/api/auth/token -H 'Content-Type: application/json' \\
    -d {credentials} \\
    | python3 -c 'import sys,json; print(json.load(sys.stdin)["access"])')
  curl -s "{base}/phone/numbers" -H "Authorization: Bearer $TOKEN" -H "orgid: demo"
"""))
        if number is not None:
            auth = '-H "Authorization: Bearer $TOKEN" -H "orgid: demo"'
            self.stdout.write(f"""  curl -s "{base}/inbox/conversations" {auth}
  curl -s "{base}/phone/numbers/{number.public_id}/messages" {auth}
  .venv/bin/python manage.py simulate_inbound call --to {number.e164} --digits 1
""")
