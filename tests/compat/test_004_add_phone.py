"""004, multi-provider add-phone: its example request verbatim (host and credentials substituted) and
its error cases, each leaving nothing saved. "twilio" is answered by the sandbox emulator."""
import pytest

from billing.models import LedgerEntry
from orgs.models import ProviderConnection
from phones.models import PhoneNumber
from providers.base import Webhooks
from providers.registry import build_provider
from sandbox.models import SandboxNumber
from sandbox.services import sandbox_fault_add

pytestmark = pytest.mark.django_db

EXAMPLE = {
    "userId": "64e5f12345abcdef12345678",
    "phoneNumber": "12125551234",
    "integration": "twilio",
    "authToken": "your_auth_token",
    "accSId": "your_account_sid",
}


@pytest.fixture
def owned(sandbox_account, twilio_is_the_sandbox):
    """A number the sandbox account bought outside this platform."""
    provider = build_provider("twilio-provider", {"accountSid": sandbox_account.sid,
                                                  "authToken": sandbox_account.auth_token})
    from providers.base import SearchCriteria

    e164 = provider.search_available(SearchCriteria(area_code="212", limit=1))[0].e164
    provider.purchase(e164, Webhooks(voice_url="https://old.example.com/voice"))
    return e164


def body(sandbox_account, member, e164, **extra):
    return {**EXAMPLE, "userId": str(member.pk), "phoneNumber": e164.lstrip("+"),
            "authToken": sandbox_account.auth_token, "accSId": sandbox_account.sid, **extra}


def nothing_saved():
    assert not PhoneNumber.objects.exists()
    assert not ProviderConnection.objects.exists()
    assert not LedgerEntry.objects.filter(phone_number__isnull=False).exists()


def add(api, data):
    return api.post("/api/call/add-phone", data, format="json")


def test_the_example_with_a_member_and_a_sandbox_account_adds_the_number(owner_api, org, funded, member,
                                                                          sandbox_account, owned, settings):
    settings.PUBLIC_BASE_URL = "https://numbers.example.com"
    response = add(owner_api, body(sandbox_account, member, owned))
    assert response.status_code == 201, response.json()
    answer = response.json()
    assert (answer["message"], answer["status"], answer["code"], answer["errorMessage"]) == (
        "Phone number added successfully", True, 201, "")
    number = PhoneNumber.objects.get()
    assert answer["data"] == {"_id": number.public_id, "userId": str(member.pk), "phoneNumber": owned.lstrip("+"),
                              "integration": "twilio", "createdAt": answer["data"]["createdAt"]}
    assert number.created_by == member and number.status == "active"
    connection = ProviderConnection.objects.get()
    assert (connection.type, connection.account_id, connection.org) == ("twilio-provider", sandbox_account.sid, org)
    assert SandboxNumber.objects.get(phone_number=owned).voice_url == \
        "https://numbers.example.com/connect/webhook/twilio/voice"


def test_the_orgs_connection_to_that_account_is_reused(owner_api, org, funded, member, sandbox_account, owned):
    existing = owner_api.post("/integrations", {"type": "twilio-provider", "name": "Mine", "credentials": {
        "accountSid": sandbox_account.sid, "authToken": sandbox_account.auth_token}}, format="json")
    assert existing.status_code == 201, existing.json()
    assert add(owner_api, body(sandbox_account, member, owned)).status_code == 201
    assert ProviderConnection.objects.get().public_id == existing.json()["id"]
    assert PhoneNumber.objects.get().connection.public_id == existing.json()["id"]


def test_the_example_verbatim_is_a_400_invalid_user_id_and_saves_nothing(owner_api, twilio_is_the_sandbox):
    response = add(owner_api, EXAMPLE)
    assert response.status_code == 400
    answer = response.json()
    assert (answer["status"], answer["code"], answer["data"]) == (False, 400, None)
    assert answer["error"]["code"] == "invalid_user_id" and answer["errorMessage"]
    nothing_saved()


def test_a_user_not_in_the_org_is_a_404_and_saves_nothing(owner_api, funded, charlie, sandbox_account, owned):
    response = add(owner_api, body(sandbox_account, charlie, owned))
    assert response.status_code == 404
    assert (response.json()["status"], response.json()["code"]) == (False, 404)
    nothing_saved()


def test_invalid_credentials_are_a_400_and_save_nothing(owner_api, funded, member, sandbox_account, owned):
    response = add(owner_api, body(sandbox_account, member, owned, authToken="0" * 32))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_credentials"
    nothing_saved()


def test_the_documents_placeholder_credentials_are_a_400_and_save_nothing(owner_api, member, twilio_is_the_sandbox):
    response = add(owner_api, {**EXAMPLE, "userId": str(member.pk)})
    assert response.status_code == 400 and response.json()["code"] == 400
    nothing_saved()


def test_a_number_the_account_does_not_own_is_a_400_and_saves_nothing(owner_api, funded, member,
                                                                      sandbox_account, twilio_is_the_sandbox):
    provider = build_provider("twilio-provider", {"accountSid": sandbox_account.sid,
                                                  "authToken": sandbox_account.auth_token})
    from providers.base import SearchCriteria

    e164 = provider.search_available(SearchCriteria(area_code="415", limit=1))[0].e164
    response = add(owner_api, body(sandbox_account, member, e164))
    assert response.status_code == 400 and response.json()["error"]["code"] == "number_not_owned"
    nothing_saved()


def test_a_number_already_added_is_a_400_and_saves_nothing_more(owner_api, funded, member, sandbox_account, owned):
    assert add(owner_api, body(sandbox_account, member, owned)).status_code == 201
    ledger = LedgerEntry.objects.count()
    response = add(owner_api, body(sandbox_account, member, owned))
    assert response.status_code == 400 and response.json()["error"]["code"] == "number_exists"
    assert PhoneNumber.objects.count() == 1 and ProviderConnection.objects.count() == 1
    assert LedgerEntry.objects.count() == ledger


def test_a_webhook_setup_failure_is_a_500_and_saves_nothing(owner_api, funded, member, sandbox_account, owned):
    sandbox_fault_add(account_sid=sandbox_account.sid, resource="IncomingPhoneNumbers", method="POST",
                      kind="http_500", times=20)
    response = add(owner_api, body(sandbox_account, member, owned))
    assert response.status_code == 500, response.json()
    assert response.json()["error"]["code"] == "webhook_setup_failed" and response.json()["code"] == 500
    nothing_saved()
    assert SandboxNumber.objects.get(phone_number=owned).voice_url == "https://old.example.com/voice"


def test_plivo_credentials_in_the_wrong_format_are_a_400_and_save_nothing(owner_api, member):
    response = add(owner_api, {**EXAMPLE, "userId": str(member.pk), "integration": "plivo"})
    assert response.status_code == 400
    nothing_saved()


def test_telnyx_without_a_connection_to_reuse_is_a_400_naming_what_it_lacks(owner_api, member, monkeypatch):
    from providers.telnyx.client import TelnyxProvider

    monkeypatch.setattr(TelnyxProvider, "validate_credentials",
                        lambda self: type("Account", (), {"account_id": "telnyx-account"})())
    response = add(owner_api, {**EXAMPLE, "userId": str(member.pk), "integration": "telnyx"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_public_config"
    nothing_saved()
