import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from orgs.models import Membership, Org, ProviderConnection

pytestmark = pytest.mark.django_db


def test_reencrypt_moves_every_secret_to_the_newest_key(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    org = Org.objects.create(slug="o", name="o")
    connection = ProviderConnection(org=org, type="twilio-provider", name="t", account_id="AC1")
    connection.credentials = {"accountSid": "AC1", "authToken": "s3cret"}
    connection.save()

    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    call_command("reencrypt_credentials")

    settings.FIELD_ENCRYPTION_KEYS = [new]
    assert ProviderConnection.objects.get().credentials == {"accountSid": "AC1", "authToken": "s3cret"}


def test_a_wrong_key_fails_loudly(settings):
    from django.core.exceptions import ImproperlyConfigured

    org = Org.objects.create(slug="o", name="o")
    connection = ProviderConnection(org=org, type="twilio-provider", name="t")
    connection.credentials = {"authToken": "x"}
    connection.save()
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured):
        ProviderConnection.objects.get().credentials


def test_create_org_makes_owner_org_sandbox_and_opening_balance_once(capsys):
    from billing.services import balance_get

    call_command("create_org", "acme", owner="wile", password="a-long-password", balance=5000, sandbox=True)
    call_command("create_org", "acme", owner="wile", balance=5000, sandbox=True)
    org = Org.objects.get(slug="acme")
    membership = Membership.objects.get(org=org)
    assert membership.user.username == "wile" and membership.role == "owner"
    assert membership.user.check_password("a-long-password")
    assert ProviderConnection.objects.filter(org=org, type="sandbox-provider").count() == 1
    assert balance_get(org=org).balance == 5000


def test_seed_demo_is_idempotent(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "admin / " in out and "orgid: demo" in out
    org = Org.objects.get(slug="demo")
    assert org.memberships.get().user.is_staff
    assert ProviderConnection.objects.filter(org=org).count() == 1
