"""The demo `make run` seeds, and what a newcomer reads from the operator commands: seed_demo twice
leaves one number with its flow, rules and final-status traffic; create_org says when its owner
cannot log in; verify_numbers labels its phases and names the orgs it skipped; a fresh SQLite
`migrate` + `seed_demo` prints none of the W040 / kombu warnings."""
from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from billing.models import LedgerEntry
from config.management.commands.seed_demo import DEMO_TRAFFIC
from orgs.models import Org, ProviderConnection
from phones.models import Call, Conversation, Message, PhoneNumber, PhoneRouting, Trunk
from sandbox.models import SandboxCall, SandboxMessage, SandboxNumber, SandboxTrunk
from tests.deploy.test_startup import manage

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded_prices")]


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=out)
    return out.getvalue()


def snapshot() -> dict:
    return {"numbers": PhoneNumber.objects.count(), "sandbox numbers": SandboxNumber.objects.count(),
            "texts": Message.objects.count(), "calls": Call.objects.count(), "ledger": LedgerEntry.objects.count(),
            "sandbox texts": SandboxMessage.objects.count(), "sandbox calls": SandboxCall.objects.count(),
            "conversations": Conversation.objects.count(),
            "routing": list(PhoneRouting.objects.values_list("ivr_flow", "sms_rules"))}


def test_seed_demo_twice_leaves_one_number_with_its_flow_rules_and_finished_traffic():
    first = seed()
    number = PhoneNumber.objects.get(org__slug="demo")
    assert number.status == PhoneNumber.Status.ACTIVE and number.purpose == "demo"
    assert number.routing_mode == PhoneNumber.RoutingMode.IVR and number.webhooks["voiceUrl"].endswith("/ivr-menu")
    routing = PhoneRouting.objects.get(phone_number=number)
    assert routing.ivr_flow["entry"] == "main" and [r["type"] for r in routing.sms_rules] == [
        "auto-reply", "forward-sms", "add-tag"]
    assert SandboxNumber.objects.get().phone_number == number.e164  # bought from the sandbox

    texts, calls = [t for t in DEMO_TRAFFIC if t[0] == "sms"], [t for t in DEMO_TRAFFIC if t[0] == "call"]
    inbound = Message.objects.filter(phone_number=number, direction="inbound")
    assert inbound.count() == len(texts) and set(inbound.values_list("status", flat=True)) == {"received"}
    # The auto-reply in the webhook's answer, and the texts sent through the API while answering (the
    # forward, the flow's text): each delivered, by the sandbox's status callbacks, under its own SID.
    sent = Message.objects.filter(phone_number=number, direction="outbound")
    assert sent.count() == 3 and set(sent.values_list("status", flat=True)) == {"delivered"}
    assert all(sid.startswith("SM") for sid in sent.values_list("provider_sid", flat=True))
    assert Call.objects.filter(phone_number=number).count() == len(calls)
    for call in Call.objects.filter(phone_number=number):
        assert call.status == "completed" and call.duration > 0
    threads = set(Conversation.objects.filter(phone_number=number).values_list("contact__e164", flat=True))
    assert {caller for _, caller, _ in texts} <= threads  # the inbox has each texter's thread
    assert f"Demo number:  {number.e164}" in first
    assert "admin / admin-demo-password" in first and '"password": "admin-demo-password"' in first

    before = snapshot()
    second = seed()
    assert snapshot() == before  # nothing bought, configured or played again
    assert f"demo number {number.e164}: exists (active)" in second
    assert "IVR flow: exists, kept" in second and "SMS rules: exist, kept" in second
    assert "none played" in second
    assert "admin / admin-demo-password" in second  # still the real password: it was never changed
    [trunk] = Trunk.objects.filter(org__slug="demo")  # one SIP trunk, read from the sandbox, made once
    assert (trunk.friendly_name, SandboxTrunk.objects.count()) == ("Demo SIP trunk", 1)


def test_a_changed_password_is_not_printed_as_the_login():
    seed("--no-number")
    user = get_user_model().objects.get(username="admin")
    user.set_password("something-else-entirely")
    user.save()
    out = seed("--no-number")
    assert "admin-demo-password" not in out
    assert ".venv/bin/python manage.py changepassword admin" in out
    assert not PhoneNumber.objects.exists()


def test_create_org_without_a_password_says_the_owner_cannot_log_in():
    out = StringIO()
    call_command("create_org", "acme", "--owner", "ops", stdout=out)
    assert "ops has no password, so cannot log in" in out.getvalue()
    assert "manage.py changepassword ops" in out.getvalue()
    out = StringIO()
    call_command("create_org", "beta", "--owner", "dev", "--password", "a long enough password", stdout=out)
    assert "cannot log in" not in out.getvalue()


def test_verify_numbers_labels_its_phases_and_names_the_orgs_it_skipped():
    seed("--no-number")
    PhoneNumber.objects.all().delete()
    call_command("seed_demo")  # the demo number, to check
    call_command("create_org", "lonely", "--owner", "lonely-owner", stdout=StringIO())
    call_command("create_org", "paused", "--owner", "paused-owner", "--sandbox", stdout=StringIO())
    ProviderConnection.objects.filter(org__slug="paused").update(is_active=False)
    out = StringIO()
    call_command("verify_numbers", stdout=out, stderr=out)
    text = out.getvalue()
    assert "listing the provider's numbers" in text and "checking 1 number(s) against it" in text
    for label in ("listing the provider's numbers", "checking 1 number(s) against it"):
        percents = [int(p) for p in re.findall(re.escape(label) + r"\s+\[[#.]+\]\s+(\d+)%", text)]
        assert percents and percents == sorted(percents) and percents[-1] == 100  # never backwards
    assert "lonely: skipped, it has no provider connection" in text
    assert "paused: skipped, its 1 provider connection(s) are inactive" in text
    assert "checked 1: ok 1" in text
    assert Org.objects.filter(slug__in=["lonely", "paused"]).count() == 2


def test_verify_numbers_for_one_skipped_org_says_why():
    call_command("create_org", "lonely", "--owner", "lonely-owner", stdout=StringIO())
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Org 'lonely' skipped: it has no provider connection"):
        call_command("verify_numbers", "--org", "lonely")
    with pytest.raises(CommandError, match="No org 'nobody'"):
        call_command("verify_numbers", "--org", "nobody")


def test_a_fresh_sqlite_demo_prints_no_warnings(tmp_path):
    env = {"DEBUG": "true", "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", "CELERY_BROKER_URL": ""}
    migrated = manage("migrate", "--noinput", **env)
    assert migrated.returncode == 0, migrated.stderr
    seeded = manage("seed_demo", **env)
    assert seeded.returncode == 0, seeded.stderr
    for result in (migrated, seeded):
        output = result.stdout + result.stderr
        assert "W040" not in output and "No hostname was supplied" not in output
        assert "WARNING" not in output
    assert "Demo number:" in seeded.stdout
