"""SIP trunks: read from the provider (the sandbox's Trunking v1), and numbers assigned to them there.

Every assignment is asserted on the sandbox's state (the number's TrunkSid, the trunk's phone
numbers) as well as on what the API answers, and the money on the ledger.
"""
from __future__ import annotations

import pytest
from django.core.management import call_command

from billing.models import LedgerEntry
from billing.services import balance_get
from orgs.services import connection_create
from phones.models import PhoneNumber, Trunk
from providers.base import ProviderError
from providers.twilio.client import TwilioProvider
from sandbox.models import SandboxAccount, SandboxFault, SandboxNumber
from sandbox.services import sandbox_number_update
from sandbox.trunking import sandbox_trunk_create, sandbox_trunk_numbers
from tests.phones.conftest import available, buy

SIP = "sip:pbx.example.com:5060"


def account_of(connection) -> SandboxAccount:
    return SandboxAccount.objects.get(sid=connection.credentials["accountSid"])


def at_provider(number: PhoneNumber) -> SandboxNumber:
    return SandboxNumber.objects.get(sid=number.provider_sid)


@pytest.fixture
def sandbox_trunk(sandbox):
    return sandbox_trunk_create(account=account_of(sandbox), friendly_name="Production SIP Trunk",
                                domain_prefix="acme-prod", sip_urls=[SIP, "sip:backup.example.com"])


@pytest.fixture
def trunk(owner_api, sandbox_trunk) -> Trunk:
    response = owner_api.post("/trunks/sync")
    assert response.status_code == 200, response.json()
    return Trunk.objects.get(provider_sid=sandbox_trunk.sid)


@pytest.fixture
def fail_next_trunk_request(sandbox):
    def fail(method: str) -> None:
        SandboxFault.objects.create(account=account_of(sandbox), resource="Trunks", method=method, kind="http_500",
                                    remaining=10)
    return fail


class TestTheTrunkList:
    def test_it_lists_the_accounts_trunks_with_domain_and_origination_urls(self, owner_api, sandbox, sandbox_trunk):
        body = owner_api.get("/trunks").json()
        assert (body["total"], body["limit"], body["offset"]) == (1, 50, 0)
        [listed] = body["data"]
        assert listed["sid"] == sandbox_trunk.sid
        assert listed["name"] == "Production SIP Trunk"
        assert listed["domainName"] == "acme-prod.pstn.twilio.com"
        assert [url["sipUrl"] for url in listed["originationUrls"]] == [SIP, "sip:backup.example.com"]
        assert listed["connectionId"] == sandbox.public_id
        assert listed["numberCount"] == 0
        assert listed["id"].startswith("trk_")
        assert owner_api.get(f"/trunks/{listed['id']}").json() == listed

    def test_sync_picks_up_new_renamed_and_deleted_trunks(self, owner_api, sandbox, sandbox_trunk):
        owner_api.post("/trunks/sync")
        second = sandbox_trunk_create(account=account_of(sandbox), friendly_name="Second")
        sandbox_trunk.friendly_name = "Renamed"
        sandbox_trunk.save()
        body = owner_api.post("/trunks/sync").json()
        assert sorted(t["name"] for t in body["data"]) == ["Renamed", "Second"]
        second.delete()
        assert [t["name"] for t in owner_api.post("/trunks/sync").json()["data"]] == ["Renamed"]

    def test_the_list_reads_the_provider_again_only_after_a_while(self, owner_api, sandbox, sandbox_trunk):
        assert owner_api.get("/trunks").json()["total"] == 1
        sandbox_trunk_create(account=account_of(sandbox), friendly_name="Made just now")
        assert owner_api.get("/trunks").json()["total"] == 1  # read less than a minute ago
        assert owner_api.post("/trunks/sync").json()["total"] == 2

    def test_a_provider_failure_on_sync_is_a_502_and_changes_nothing(self, owner_api, trunk, fail_next_trunk_request,
                                                                     sandbox_trunk):
        sandbox_trunk.delete()
        fail_next_trunk_request("GET")
        response = owner_api.post("/trunks/sync")
        assert response.status_code == 502
        assert Trunk.objects.filter(pk=trunk.pk).exists()

    def test_paging(self, owner_api, sandbox):
        for name in ("A", "B", "C"):
            sandbox_trunk_create(account=account_of(sandbox), friendly_name=name)
        body = owner_api.get("/trunks?limit=2&offset=1").json()
        assert (body["total"], [t["name"] for t in body["data"]]) == (3, ["B", "C"])
        assert owner_api.get("/trunks?limit=0").status_code == 400

    def test_members_read_and_admins_sync(self, member_api, admin_api, sandbox, sandbox_trunk):
        assert member_api.get("/trunks").json()["total"] == 1
        assert member_api.post("/trunks/sync").status_code == 403
        assert admin_api.post("/trunks/sync").status_code == 200

    def test_another_orgs_trunk_is_a_404(self, outsider_api, trunk):
        assert outsider_api.get(f"/trunks/{trunk.public_id}").status_code == 404
        assert outsider_api.get("/trunks").json()["total"] == 0

    def test_a_plivo_org_lists_no_trunks(self, owner_api, org, monkeypatch):
        from providers.base import AccountInfo
        from providers.plivo.client import PlivoProvider

        monkeypatch.setattr(PlivoProvider, "validate_credentials",
                            lambda self: AccountInfo(account_id="MA" + "A" * 18))
        connection_create(org=org, type_="plivo-provider", name="Plivo",
                          credentials={"authId": "MA" + "A" * 18, "authToken": "t" * 40})
        body = owner_api.post("/trunks/sync").json()
        assert body["total"] == 0


class TestPurchaseWithATrunk:
    def test_the_bought_number_is_on_the_trunk_at_the_provider(self, owner_api, on_commit, sandbox, funded, trunk,
                                                                sandbox_trunk):
        response = buy(owner_api, on_commit, available(sandbox), trunkId=trunk.public_id)
        assert response.status_code == 202, response.json()
        number = PhoneNumber.objects.get(public_id=response.json()["number"]["id"])
        assert at_provider(number).trunk_sid == sandbox_trunk.sid
        assert list(sandbox_trunk_numbers(sandbox_trunk)) == [at_provider(number)]
        shown = owner_api.get(f"/phone/numbers/{number.public_id}").json()
        assert (shown["trunkId"], shown["trunkName"], shown["trunkStatus"]) == (
            trunk.public_id, "Production SIP Trunk", "assigned")
        job = owner_api.get(f"/jobs/{response.json()['job']['id']}").json()
        assert job["result"]["trunk"] == {"trunkId": trunk.public_id, "status": "assigned"}

    def test_the_trunk_can_be_named_by_its_sid(self, owner_api, on_commit, sandbox, funded, trunk, sandbox_trunk):
        response = buy(owner_api, on_commit, available(sandbox), trunkId=sandbox_trunk.sid)
        number = PhoneNumber.objects.get(public_id=response.json()["number"]["id"])
        assert at_provider(number).trunk_sid == sandbox_trunk.sid

    def test_another_orgs_trunk_is_refused_before_anything_is_bought(self, owner_api, on_commit, sandbox, funded,
                                                                      other_org):
        theirs = connection_create(org=other_org, type_="sandbox-provider", name="Theirs", credentials={})
        their_trunk = sandbox_trunk_create(account=account_of(theirs), friendly_name="Theirs")
        from phones.trunks.services import trunks_sync

        trunks_sync(org=other_org)
        before = balance_get(org=funded).balance
        for trunk_id in (Trunk.objects.get(org=other_org).public_id, their_trunk.sid, "trk_nope"):
            response = buy(owner_api, on_commit, available(sandbox), trunkId=trunk_id)
            assert response.status_code == 400, response.json()
            assert response.json()["error"]["code"] == "unknown_trunk"
        assert balance_get(org=funded).balance == before
        assert not PhoneNumber.objects.filter(org=funded).exists()
        assert not account_of(sandbox).numbers.exists()

    def test_a_refused_assignment_leaves_the_number_bought_and_says_failed(self, owner_api, on_commit, sandbox,
                                                                           funded, trunk, fail_next_trunk_request):
        fail_next_trunk_request("POST")
        response = buy(owner_api, on_commit, available(sandbox), trunkId=trunk.public_id)
        number = PhoneNumber.objects.get(public_id=response.json()["number"]["id"])
        assert number.status == "active"
        assert at_provider(number).trunk_sid == ""
        shown = owner_api.get(f"/phone/numbers/{number.public_id}").json()
        assert (shown["trunkId"], shown["trunkStatus"]) == (trunk.public_id, "failed")
        job = owner_api.get(f"/jobs/{response.json()['job']['id']}").json()
        assert job["status"] == "succeeded"
        assert job["result"]["trunk"]["status"] == "failed"
        # The number was charged once (setup + first month), like any purchase.
        assert LedgerEntry.objects.filter(org=funded, phone_number=number).count() == 1
        # Once the provider answers again, PUT trunkId assigns it.
        SandboxFault.objects.all().delete()
        shown = owner_api.put(f"/phone/numbers/{number.public_id}", {"trunkId": trunk.public_id},
                              format="json").json()
        assert shown["trunkStatus"] == "assigned"
        assert at_provider(number).trunk_sid == trunk.provider_sid


class TestAssigningANumber:
    def test_put_assigns_moves_and_unassigns_at_the_provider(self, owner_api, sandbox, active_number, trunk,
                                                             sandbox_trunk):
        url = f"/phone/numbers/{active_number.public_id}"
        voice_url = at_provider(active_number).voice_url
        sandbox_number_update(number=at_provider(active_number), params={"VoiceUrl": "https://stale.example.com/x"})

        body = owner_api.put(url, {"trunkId": trunk.public_id}, format="json").json()
        assert (body["trunkId"], body["trunkStatus"]) == (trunk.public_id, "assigned")
        assert at_provider(active_number).trunk_sid == sandbox_trunk.sid

        other = sandbox_trunk_create(account=account_of(sandbox), friendly_name="Other")
        owner_api.post("/trunks/sync")
        other_trunk = Trunk.objects.get(provider_sid=other.sid)
        body = owner_api.put(url, {"trunkId": other_trunk.public_id}, format="json").json()
        assert body["trunkName"] == "Other"
        assert at_provider(active_number).trunk_sid == other.sid
        assert not sandbox_trunk_numbers(sandbox_trunk).exists()

        body = owner_api.put(url, {"trunkId": None}, format="json").json()
        assert (body["trunkId"], body["trunkName"], body["trunkStatus"]) == (None, None, None)
        at_twilio = at_provider(active_number)
        assert at_twilio.trunk_sid == ""
        assert at_twilio.voice_url == voice_url  # our voice webhook again, not the stale one

    def test_a_refused_assignment_changes_nothing(self, owner_api, active_number, trunk, fail_next_trunk_request):
        fail_next_trunk_request("POST")
        response = owner_api.put(f"/phone/numbers/{active_number.public_id}", {"trunkId": trunk.public_id},
                                 format="json")
        assert response.status_code == 502
        active_number.refresh_from_db()
        assert (active_number.trunk_id, active_number.trunk_status) == (None, "")
        assert at_provider(active_number).trunk_sid == ""

    def test_an_unknown_trunk_is_a_400(self, owner_api, active_number):
        response = owner_api.put(f"/phone/numbers/{active_number.public_id}", {"trunkId": "trk_unknown"},
                                 format="json")
        assert response.status_code == 400
        assert response.json()["error"]["field"] == "trunkId"

    def test_the_list_shows_trunks_and_finds_unassigned_numbers(self, owner_api, on_commit, sandbox, active_number,
                                                                 trunk):
        other = buy(owner_api, on_commit, available(sandbox, "212")).json()["number"]["id"]
        owner_api.put(f"/phone/numbers/{active_number.public_id}", {"trunkId": trunk.public_id}, format="json")
        listed = {n["id"]: n for n in owner_api.get("/phone/numbers").json()["numbers"]}
        assert listed[active_number.public_id]["trunkName"] == "Production SIP Trunk"
        assert listed[other]["trunkId"] is None and listed[other]["trunkName"] is None
        free = owner_api.get("/phone/numbers?trunkId=none").json()
        assert ([n["id"] for n in free["numbers"]], free["total"]) == ([other], 1)
        on_trunk = owner_api.get(f"/phone/numbers?trunkId={trunk.public_id}").json()
        assert [n["id"] for n in on_trunk["numbers"]] == [active_number.public_id]
        assert owner_api.get("/trunks").json()["data"][0]["numberCount"] == 1

    def test_a_trunk_deleted_at_the_provider_lets_its_numbers_go(self, owner_api, active_number, trunk,
                                                                 sandbox_trunk):
        owner_api.put(f"/phone/numbers/{active_number.public_id}", {"trunkId": trunk.public_id}, format="json")
        SandboxNumber.objects.filter(trunk_sid=sandbox_trunk.sid).update(trunk_sid="")
        sandbox_trunk.delete()
        assert owner_api.post("/trunks/sync").json()["total"] == 0
        shown = owner_api.get(f"/phone/numbers/{active_number.public_id}").json()
        assert (shown["trunkId"], shown["trunkStatus"]) == (None, None)

    def test_a_number_moved_to_another_org_leaves_the_old_orgs_trunk(self, owner_api, sandbox, active_number,
                                                                      trunk, other_org, alice):
        from phones.numbers.reassign import phone_number_move_to_org

        owner_api.put(f"/phone/numbers/{active_number.public_id}", {"trunkId": trunk.public_id}, format="json")
        connection_create(org=other_org, type_="sandbox-provider", name="Shared", credentials=sandbox.credentials)
        active_number.refresh_from_db()
        phone_number_move_to_org(number=active_number, org=other_org, actor=alice)
        active_number.refresh_from_db()
        assert (active_number.org_id, active_number.trunk_id) == (other_org.pk, None)
        assert at_provider(active_number).trunk_sid == ""

    def test_staff_assign_from_the_admin(self, client, django_user_model, active_number, trunk, sandbox_trunk):
        staff = django_user_model.objects.create_superuser("staff", "staff@example.com", "pw")
        client.force_login(staff)
        page = client.post("/admin/phones/phonenumber/", {
            "action": "reassign_numbers", "_selected_action": [active_number.pk], "confirm": "yes",
            "target": "trunk", "trunk": trunk.pk})
        assert page.status_code == 302
        assert at_provider(active_number).trunk_sid == sandbox_trunk.sid
        client.post("/admin/phones/phonenumber/", {
            "action": "reassign_numbers", "_selected_action": [active_number.pk], "confirm": "yes",
            "target": "no_trunk"})
        assert at_provider(active_number).trunk_sid == ""
        active_number.refresh_from_db()
        assert active_number.trunk_id is None


class TestVerify:
    def test_the_recorded_trunk_is_expected_and_another_is_drift(self, owner_api, sandbox, active_number, trunk,
                                                                 sandbox_trunk):
        owner_api.put(f"/phone/numbers/{active_number.public_id}", {"trunkId": trunk.public_id}, format="json")
        report = owner_api.get(f"/phone/verify?phoneId={active_number.public_id}").json()
        [entry] = report["numbers"]
        assert (entry["result"], entry["voice"]["status"]) == ("ok", "ok")
        assert entry["trunk"] == {"expected": sandbox_trunk.sid, "actual": sandbox_trunk.sid}

        other = sandbox_trunk_create(account=account_of(sandbox), friendly_name="Set in the console")
        sandbox_number_update(number=at_provider(active_number), params={"TrunkSid": other.sid})
        [entry] = owner_api.get(f"/phone/verify?phoneId={active_number.public_id}").json()["numbers"]
        assert (entry["result"], entry["voice"]["status"]) == ("drift", "trunk_mismatch")
        assert entry["trunk"] == {"expected": sandbox_trunk.sid, "actual": other.sid}

        [entry] = owner_api.get(f"/phone/verify?phoneId={active_number.public_id}&repair=true").json()["numbers"]
        assert entry["repaired"] and entry["result"] == "ok"
        assert at_provider(active_number).trunk_sid == sandbox_trunk.sid

    def test_a_trunk_set_only_at_the_provider_is_drift(self, owner_api, active_number, sandbox_trunk):
        sandbox_number_update(number=at_provider(active_number), params={"TrunkSid": sandbox_trunk.sid})
        [entry] = owner_api.get(f"/phone/verify?phoneId={active_number.public_id}").json()["numbers"]
        assert (entry["result"], entry["voice"]["status"]) == ("drift", "trunk_mismatch")
        [entry] = owner_api.get(f"/phone/verify?phoneId={active_number.public_id}&repair=true").json()["numbers"]
        assert entry["result"] == "ok"
        assert at_provider(active_number).trunk_sid == ""


class TestProviders:
    def test_plivo_and_telnyx_say_sip_trunks_are_not_supported(self):
        from providers.plivo.client import PlivoProvider
        from providers.telnyx.client import TelnyxProvider

        for provider in (PlivoProvider.__new__(PlivoProvider), TelnyxProvider.__new__(TelnyxProvider)):
            for call in (provider.list_trunks, lambda p=provider: p.trunk_assign("TK1", "PN1"),
                         lambda p=provider: p.trunk_unassign("TK1", "PN1")):
                with pytest.raises(ProviderError) as raised:
                    call()
                assert raised.value.code == "unsupported" and raised.value.permanent

    def test_unassigning_a_number_not_on_the_trunk_is_not_an_error(self, sandbox, active_number, sandbox_trunk):
        from providers.registry import provider_for

        provider = provider_for(sandbox)
        assert isinstance(provider, TwilioProvider)
        provider.trunk_unassign(sandbox_trunk.sid, active_number.provider_sid)
        assert at_provider(active_number).trunk_sid == ""


def test_the_sandbox_trunk_command_makes_a_trunk_the_org_then_lists(owner_api, org, sandbox, capsys):
    call_command("sandbox_trunk", "From the command", org=org.slug, domain="cmd", sip_urls=[SIP])
    assert "cmd.pstn.twilio.com" in capsys.readouterr().out
    [listed] = owner_api.get("/trunks").json()["data"]
    assert (listed["name"], listed["originationUrls"][0]["sipUrl"]) == ("From the command", SIP)
