from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import LedgerEntry
from billing.services import balance_get
from phones.models import Message, PhoneNumber
from providers.base import Webhooks
from providers.registry import provider_for
from sandbox.models import SandboxNumber
from tests.phones.conftest import available, buy

pytestmark = pytest.mark.django_db


def owned_elsewhere(sandbox, area_code="212"):
    """A number the sandbox account bought outside this platform."""
    e164 = available(sandbox, area_code)
    provider_for(sandbox).purchase(e164, Webhooks(voice_url="https://old.example.com/voice"))
    return e164


def test_it_imports_a_number_the_account_owns_and_repoints_only_its_webhooks(owner_api, sandbox, funded):
    e164 = owned_elsewhere(sandbox)
    response = owner_api.post("/phone/numbers/add", {"phoneNumber": e164, "friendlyName": "Main", "purpose": "biz"},
                              format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "active" and body["friendlyName"] == "Main"
    at_provider = SandboxNumber.objects.get(phone_number=e164)
    assert at_provider.voice_url.endswith("/connect/webhook/twilio/voice")
    assert at_provider.sms_url.endswith("/connect/webhook/twilio/sms")
    assert balance_get(org=sandbox.org).balance == 10_000 - 115
    assert LedgerEntry.objects.get(kind="purchase_hold").metadata["setupFee"] == 0


def test_importing_a_number_the_account_does_not_own_is_a_400(owner_api, sandbox, funded):
    response = owner_api.post("/phone/numbers/add", {"phoneNumber": available(sandbox)}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "number_not_owned"
    assert not PhoneNumber.objects.exists()
    assert balance_get(org=sandbox.org).balance == 10_000


def test_importing_twice_is_a_409(owner_api, sandbox, funded):
    e164 = owned_elsewhere(sandbox)
    owner_api.post("/phone/numbers/add", {"phoneNumber": e164}, format="json")
    again = owner_api.post("/phone/numbers/add", {"phoneNumber": e164}, format="json")
    assert again.status_code == 409
    assert PhoneNumber.objects.count() == 1


def test_importing_without_money_is_a_402_and_touches_nothing(owner_api, sandbox):
    e164 = owned_elsewhere(sandbox)
    response = owner_api.post("/phone/numbers/add", {"phoneNumber": e164}, format="json")
    assert response.status_code == 402
    assert SandboxNumber.objects.get(phone_number=e164).voice_url == "https://old.example.com/voice"


def test_update_merges_configuration_and_pushes_the_name(owner_api, active_number):
    url = f"/phone/numbers/{active_number.public_id}"
    owner_api.put(url, {"configuration": {"voiceConfig": {"recordCalls": True}}}, format="json")
    response = owner_api.put(url, {"friendlyName": "Support", "configuration": {
        "voiceConfig": {"transcribeCalls": True}, "smsConfig": {"forwardTo": "+1 212 555 0199"}}}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["configuration"] == {
        "voiceConfig": {"recordCalls": True, "transcribeCalls": True}, "smsConfig": {"forwardTo": "+12125550199"}}
    assert SandboxNumber.objects.get(sid=active_number.provider_sid).friendly_name == "Support"


@pytest.mark.parametrize("body, field", [
    ({"configuration": {"smsConfig": {"forwardTo": "nope"}}}, "configuration.smsConfig.forwardTo"),
    ({"configuration": {"voiceConfig": {"ringTimeout": 1}}}, "configuration.voiceConfig.ringTimeout"),
    ({"configuration": {"billing": {}}}, "configuration.billing"),
    ({"status": "released"}, "status"),
])
def test_bad_updates_are_a_400_and_change_nothing(owner_api, active_number, body, field):
    response = owner_api.put(f"/phone/numbers/{active_number.public_id}", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    before = active_number.configuration
    active_number.refresh_from_db()
    assert active_number.configuration == before and active_number.status == "active"


def test_list_filters_pages_and_totals_the_monthly_cost(owner_api, on_commit, sandbox, funded):
    for area, purpose in (("415", "sales"), ("212", "support"), ("312", "sales")):
        buy(owner_api, on_commit, available(sandbox, area), purpose=purpose)
    everything = owner_api.get("/phone/numbers").json()
    assert everything["total"] == 3 and everything["monthlyCost"] == 345 and everything["currency"] == "USD"
    sales = owner_api.get("/phone/numbers", {"purpose": "sales"}).json()
    assert sales["total"] == 2 and {n["purpose"] for n in sales["numbers"]} == {"sales"}
    page = owner_api.get("/phone/numbers", {"limit": 2, "offset": 2}).json()
    assert len(page["numbers"]) == 1 and page["total"] == 3
    search = owner_api.get("/phone/numbers", {"search": "212"}).json()
    assert [n["phoneNumber"][:5] for n in search["numbers"]] == ["+1212"]
    assert owner_api.get("/phone/numbers", {"limit": 101}).json()["error"]["field"] == "limit"


def test_the_list_shows_only_the_orgs_own_numbers(outsider_api, active_number):
    assert outsider_api.get("/phone/numbers").json()["total"] == 0


def test_messages_page_newest_first_with_cursors(owner_api, active_number):
    now = timezone.now()
    for minutes in range(5):
        Message.objects.create(org=active_number.org, phone_number=active_number, direction="inbound",
                               from_number="+15550001111", to_number=active_number.e164, body=f"m{minutes}",
                               created_at=now - timedelta(minutes=minutes))
    url = f"/phone/numbers/{active_number.public_id}/messages"
    first = owner_api.get(url, {"limit": 2}).json()
    assert [m["body"] for m in first["data"]] == ["m0", "m1"] and first["hasMore"] is True
    assert set(first["data"][0]) >= {"id", "from_", "to", "body", "receivedAt"}
    older = owner_api.get(url, {"limit": 2, "before": first["data"][-1]["receivedAt"]}).json()
    assert [m["body"] for m in older["data"]] == ["m2", "m3"]
    newer = owner_api.get(url, {"after": (now - timedelta(minutes=1, seconds=30)).isoformat()}).json()
    assert [m["body"] for m in newer["data"]] == ["m0", "m1"] and newer["hasMore"] is False
    assert owner_api.get(url, {"limit": 201}).status_code == 400
    assert owner_api.get(url, {"before": "yesterday"}).json()["error"]["field"] == "before"


def test_setup_buys_the_first_number_in_an_area_code_and_sets_the_system_phone_once(owner_api, on_commit, sandbox,
                                                                                       funded):
    first = on_commit(lambda: owner_api.post("/phone/setup", {"purchaseNew": True, "areaCode": "415",
                                                              "setAsSystem": True}, format="json"))
    assert first.status_code == 202, first.json()
    assert first.json()["number"]["phoneNumber"].startswith("+1415")
    system = owner_api.get("/phone/system").json()
    assert system["id"] == first.json()["number"]["id"]
    second = on_commit(lambda: owner_api.post("/phone/setup", {"purchaseNew": True, "areaCode": "212",
                                                               "setAsSystem": True}, format="json"))
    assert second.status_code == 202
    assert owner_api.get("/phone/system").json()["id"] == first.json()["number"]["id"]


def test_setup_imports_when_not_purchasing(owner_api, sandbox, funded):
    from tests.phones.test_numbers import owned_elsewhere

    e164 = owned_elsewhere(sandbox)
    response = owner_api.post("/phone/setup", {"phoneNumber": e164, "setAsSystem": True}, format="json")
    assert response.status_code == 201
    assert owner_api.get("/phone/system").json()["phoneNumber"] == e164


@pytest.mark.parametrize("body, field", [
    ({"purchaseNew": True}, "areaCode"),
    ({}, "phoneNumber"),
    ({"purchaseNew": True, "areaCode": "4x5"}, "areaCode"),
])
def test_setup_validates(owner_api, sandbox, funded, body, field):
    assert owner_api.post("/phone/setup", body, format="json").json()["error"]["field"] == field


def test_system_phone_moves_to_another_number(owner_api, on_commit, sandbox, funded, active_number):
    other = buy(owner_api, on_commit, available(sandbox, "212")).json()["number"]["id"]
    owner_api.post("/phone/system", {"phoneId": active_number.public_id}, format="json")
    response = owner_api.post("/phone/system", {"phoneId": other}, format="json")
    assert response.status_code == 200
    assert list(PhoneNumber.objects.filter(is_system=True).values_list("public_id", flat=True)) == [other]


def test_without_a_system_phone_get_is_404(owner_api, sandbox):
    assert owner_api.get("/phone/system").json()["error"]["code"] == "no_system_phone"


def test_routing_mode_switch_repoints_the_voice_webhook(owner_api, active_number):
    from phones.models import PhoneRouting

    url = f"/phone/numbers/{active_number.public_id}/routing"
    refused = owner_api.post(url, {"mode": "ivr"}, format="json")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "ivr_flow_missing"
    PhoneRouting.objects.create(phone_number=active_number,
                                ivr_flow={"entry": "bye", "nodes": {"bye": {"type": "hangup"}}})
    response = owner_api.post(url, {"mode": "ivr"}, format="json")
    assert response.status_code == 200 and response.json()["routingMode"] == "ivr"
    assert SandboxNumber.objects.get(sid=active_number.provider_sid).voice_url.endswith("/ivr-menu")
    back = owner_api.post(url, {"mode": "voice"}, format="json")
    assert back.json()["routingMode"] == "voice"
    assert SandboxNumber.objects.get(sid=active_number.provider_sid).voice_url.endswith("/twilio/voice")


def test_update_sets_assignments_validated_like_the_routing_endpoint(owner_api, active_number, member):
    url = f"/phone/numbers/{active_number.public_id}"
    refused = owner_api.put(url, {"friendlyName": "New", "assignments": [{"type": "user", "target": "nobody"}]},
                            format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["field"].startswith("assignments")
    active_number.refresh_from_db()
    assert active_number.friendly_name == "Sales Line"
    ok = owner_api.put(url, {"assignments": [{"type": "user", "target": member.username}]}, format="json")
    assert ok.status_code == 200
    routing = owner_api.get(f"{url}/routing").json()
    assert [a["target"] for a in routing["assignments"]] == [member.username]


@pytest.mark.postgres
def test_trigger_kept_totals_match_a_recount_after_every_kind_of_write(org, sandbox):
    from django.db.models import Count, Sum

    from phones.models import OrgNumberTotals

    def numbers(n, start):
        return [PhoneNumber(public_id=f"pn_t{start + i}", org=org, connection=sandbox, e164=f"+1415555{start + i:04d}",
                            country="US",
                            status="active", monthly_fee=115 + i) for i in range(n)]

    def assert_matches():
        recount = {row["status"]: (row["n"], row["fees"]) for row in
                   PhoneNumber.objects.filter(org=org).values("status")
                   .annotate(n=Count("id"), fees=Sum("monthly_fee"))}
        kept = {row.status: (row.count, row.monthly_fee) for row in OrgNumberTotals.objects.filter(org=org)
                if row.count}
        assert kept == recount

    PhoneNumber.objects.bulk_create(numbers(30, 0))
    assert_matches()
    PhoneNumber.objects.filter(org=org, e164__endswith="1").update(status="past_due", monthly_fee=200)
    assert_matches()
    one = PhoneNumber.objects.filter(org=org).first()
    one.status = "released"
    one.save()
    assert_matches()
    first_five = PhoneNumber.objects.filter(org=org, status="active").values_list("pk", flat=True)[:5]
    PhoneNumber.objects.filter(pk__in=list(first_five)).delete()
    assert_matches()


def test_importing_with_credentials_rotated_at_the_provider_is_a_400(owner_api, sandbox, funded):
    from sandbox.models import SandboxAccount

    e164 = owned_elsewhere(sandbox)
    SandboxAccount.objects.filter(sid=sandbox.account_id).update(auth_token="f" * 32)
    response = owner_api.post("/phone/numbers/add", {"phoneNumber": e164}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_credentials"
    assert not PhoneNumber.objects.exists()
