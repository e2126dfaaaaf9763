"""000 and 001, the AppEngine documents: their example requests verbatim (host, credentials and ids
substituted) at the documents' paths."""
import pytest

from billing.models import LedgerEntry
from orgs.models import ProviderConnection
from phones.models import Call, Conversation, Job, Message, PhoneNumber
from providers.base import Webhooks
from providers.registry import provider_for
from sandbox.models import SandboxCall, SandboxMessage, SandboxNumber
from tests.phones.conftest import available

pytestmark = pytest.mark.django_db

TO = "+14155550142"

PURCHASE_000 = {
    "phoneNumber": "+14155551234",
    "friendlyName": "Sales Line",
    "purpose": "sales",
    "configuration": {
        "voiceConfig": {"recordCalls": True, "transcribeCalls": True},
        "smsConfig": {"autoReplyEnabled": False, "triggerAutomations": True},
        "tracking": {"enabled": True, "campaignId": "spring-2026"},
    },
}


def test_000_search_example(owner_api, sandbox):
    response = owner_api.get("/phone/available?countryCode=US&areaCode=415&smsEnabled=true&limit=10")
    assert response.status_code == 200, response.json()
    numbers = response.json()["numbers"]
    assert 0 < len(numbers) <= 10 and all(n["capabilities"]["sms"] for n in numbers)


@pytest.mark.parametrize("path", ["/phone/numbers", "/phone/numbers/purchase"])
def test_000_purchase_example_at_000_and_001_paths(owner_api, on_commit, sandbox, funded, path):
    body = {**PURCHASE_000, "phoneNumber": available(sandbox)}  # a number the sandbox sells
    response = on_commit(lambda: owner_api.post(path, body, format="json"))
    assert response.status_code == 202, response.json()
    answer = response.json()
    assert answer["number"]["friendlyName"] == "Sales Line" and answer["number"]["purpose"] == "sales"
    assert answer["billingCycle"] == "monthly" and answer["transaction"]["amount"] == 115
    number = PhoneNumber.objects.get()
    assert number.status == "active"
    assert SandboxNumber.objects.get(phone_number=number.e164).voice_url.endswith("/connect/webhook/twilio/voice")


def test_001_purchase_path_is_no_longer_shadowed_by_the_detail_route(owner_api, sandbox):
    assert owner_api.get("/phone/numbers/purchase").status_code == 405  # POST only, as 001 prints it
    response = owner_api.post("/phone/numbers/purchase", {}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_request"


def test_001_purchase_without_balance_saves_nothing(owner_api, on_commit, sandbox):
    body = {**PURCHASE_000, "phoneNumber": available(sandbox)}
    response = on_commit(lambda: owner_api.post("/phone/numbers/purchase", body, format="json"))
    assert response.status_code == 402
    assert not PhoneNumber.objects.exists() and not Job.objects.exists() and not LedgerEntry.objects.exists()


def test_000_add_existing_example(owner_api, sandbox, funded):
    e164 = available(sandbox)
    provider_for(sandbox).purchase(e164, Webhooks(voice_url="https://old.example.com/voice"))  # owned elsewhere
    response = owner_api.post("/phone/numbers/add", {"phoneNumber": e164, "friendlyName": "Existing Main Line",
                                                     "purpose": "business"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["friendlyName"] == "Existing Main Line" and response.json()["status"] == "active"


def test_000_add_a_number_the_account_does_not_own_is_a_400_and_saves_nothing(owner_api, sandbox, funded):
    response = owner_api.post("/phone/numbers/add", {"phoneNumber": available(sandbox),
                                                     "friendlyName": "Existing Main Line", "purpose": "business"},
                              format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "number_not_owned"
    assert not PhoneNumber.objects.exists() and not LedgerEntry.objects.filter(phone_number__isnull=False).exists()


def test_000_routing_and_system_examples(owner_api, sender):
    response = owner_api.post(f"/phone/numbers/{sender.public_id}/routing", {"mode": "ivr"}, format="json")
    # Without an IVR flow saved the switch is refused and nothing changes (phones.numbers.services).
    assert response.status_code == 400 and response.json()["error"]["code"] == "ivr_flow_missing"
    sender.refresh_from_db()
    assert sender.routing_mode == "voice"
    response = owner_api.post("/phone/system", {"phoneId": "phone-abc-123"}, format="json")
    assert response.status_code == 404  # the document's id names no number here


def test_001_save_integration_example(owner_api, org, twilio_is_the_sandbox, sandbox_account):
    response = owner_api.post("/api/upstream/save-integration", {
        "type": "twilio-provider",
        "name": "Twilio Production",
        "credentials": {"accountSid": sandbox_account.sid, "authToken": sandbox_account.auth_token},
        "publicConfig": {"defaultSenderNumber": "+15551234567"},
    }, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["type"] == "twilio-provider" and body["name"] == "Twilio Production"
    assert body["accountId"] == sandbox_account.sid
    assert ProviderConnection.objects.get(org=org).type == "twilio-provider"


def test_001_save_integration_with_the_documents_placeholders_is_a_400_and_saves_nothing(owner_api, org):
    response = owner_api.post("/api/upstream/save-integration", {
        "type": "twilio-provider",
        "name": "Twilio Production",
        "credentials": {"accountSid": "AC...", "authToken": "...", "apiKeySid": "SK...", "apiKeySecret": "..."},
        "publicConfig": {"messagingServiceSid": "MG...", "defaultSenderNumber": "+15551234567"},
    }, format="json")
    assert response.status_code == 400
    assert not ProviderConnection.objects.exists()


def test_001_save_integration_with_refused_credentials_saves_nothing(owner_api, twilio_is_the_sandbox,
                                                                     sandbox_account):
    response = owner_api.post("/api/upstream/save-integration", {
        "type": "twilio-provider", "name": "Twilio Production",
        "credentials": {"accountSid": sandbox_account.sid, "authToken": "0" * 32}}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_credentials"
    assert not ProviderConnection.objects.exists()


@pytest.fixture
def sender(owner_api, on_commit, sandbox, funded):
    response = on_commit(lambda: owner_api.post("/phone/numbers/purchase", {"phoneNumber": available(sandbox)},
                                                format="json"))
    assert response.status_code == 202, response.json()
    number = PhoneNumber.objects.get()
    owner_api.post("/phone/system", {"phoneId": number.public_id}, format="json")
    return number


def test_001_send_sms_example_verbatim_is_refused_by_the_provider_and_keeps_nothing(owner_api, sender):
    # +1 555 123 4567 is not a real number (only 555-0100..0199 are): Twilio (the sandbox) refuses it, 21211.
    response = owner_api.post("/api/upstream/call/twilio-provider/send-sms", {
        "to": "+15551234567",
        "body": "Your code is 123456",
        "mediaUrl": ["https://cdn.example.com/receipt.pdf"],  # the document elides the host: "https://cdn.../"
    }, format="json")
    assert response.status_code == 422, response.json()
    assert response.json()["error"]["providerCode"] == 21211
    assert not SandboxMessage.objects.exists() and not Message.objects.exists()


def test_001_send_sms_example_to_a_real_number(owner_api, sender):
    response = owner_api.post("/api/upstream/call/twilio-provider/send-sms", {
        "to": TO, "body": "Your code is 123456", "mediaUrl": ["https://cdn.example.com/receipt.pdf"]},
        format="json")
    assert response.status_code == 201, response.json()
    sent = SandboxMessage.objects.get()
    assert (sent.to, sent.from_number, sent.body) == (TO, sender.e164, "Your code is 123456")
    assert Message.objects.get().public_id == response.json()["id"]


def test_001_send_sms_with_the_elided_media_url_is_a_400_and_sends_nothing(owner_api, sender):
    response = owner_api.post("/api/upstream/call/twilio-provider/send-sms", {
        "to": TO, "body": "Your code is 123456", "mediaUrl": ["https://cdn.../receipt.pdf"]}, format="json")
    assert response.status_code == 400
    assert not SandboxMessage.objects.exists() and not Message.objects.exists()


def test_001_make_call_example(owner_api, sender):
    body = {
        "from": sender.e164,  # the document's +15551234567: one of this org's numbers here
        "to": "+15559876543",
        "twimlUrl": "https://api.appmint.io/automation/ivr/flow/welcome",
    }
    response = owner_api.post("/api/upstream/call/twilio-provider/make-call", body, format="json")
    assert response.status_code == 422, response.json()  # +1 555 987 6543 is no real number: refused
    assert not SandboxCall.objects.exists() and not Call.objects.exists()
    response = owner_api.post("/api/upstream/call/twilio-provider/make-call", {**body, "to": TO}, format="json")
    assert response.status_code == 201, response.json()
    assert SandboxCall.objects.get().to == TO
    assert Call.objects.get().public_id == response.json()["id"]


def test_001_make_call_from_a_number_not_the_orgs_is_a_400_and_places_nothing(owner_api, sender):
    response = owner_api.post("/api/upstream/call/twilio-provider/make-call", {
        "from": "+15551234567", "to": TO,
        "twimlUrl": "https://api.appmint.io/automation/ivr/flow/welcome"}, format="json")
    assert response.status_code == 400
    assert not SandboxCall.objects.exists() and not Call.objects.exists()


def test_001_crm_inbox_conversations(owner_api, sender):
    owner_api.post("/api/upstream/call/twilio-provider/send-sms", {"to": TO, "body": "hi"},
                   format="json")
    response = owner_api.get("/crm/inbox/conversations")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["total"] == 1 == Conversation.objects.count()
    assert body["data"] == owner_api.get("/inbox/conversations").json()["data"]
