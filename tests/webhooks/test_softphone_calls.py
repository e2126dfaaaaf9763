"""A member's softphone calls out through the TwiML App's voice URL (our voice webhook), and
presence decides who is rung and follows the calls."""
from __future__ import annotations

import pytest

from phones.calls import dial_out
from phones.calls.routing import routing_update
from phones.models import Call, PhoneNumber, SoftphonePresence
from tests.conftest import make_user
from tests.webhooks.conftest import NUMBER, PUBLIC, children, softphones_on, twiml

VOICE = f"{PUBLIC}/connect/webhook/twilio/voice"
PSTN = "+14155550142"
LONDON = "+442079460958"
CALL_SID = "CA" + "7" * 32


def client(user) -> str:
    return f"client:user_{user.pk}"


def place(twilio, user, to: str = PSTN, call_sid: str = CALL_SID, **extra):
    """The request Twilio makes to the TwiML App's voice URL when the browser calls `to`."""
    return twiml(twilio.call(from_=client(user) if not isinstance(user, str) else user, to=to,
                             call_sid=call_sid, Direction="inbound", **extra))


def presence(org, user) -> str | None:
    row = SoftphonePresence.objects.filter(org=org, user=user).first()
    return row.status if row else None


@pytest.fixture
def alice_line(number):
    """`number` (+14155550100) rings alice, so it is her caller ID."""
    routing_update(number=number, changes={"assignments": [{"type": "user", "target": "alice"}]})
    return number


def test_a_member_calls_out_with_the_number_that_rings_them(twilio, org, alice, alice_line):
    softphones_on(org, alice)
    root = place(twilio, alice)
    [(tag, attrs, _)] = children(root)
    assert tag == "Dial"
    assert attrs == {"callerId": NUMBER, "answerOnBridge": "true", "action": f"{VOICE}?done=1", "method": "POST"}
    assert children(root.find("Dial")) == [("Number", {}, PSTN)]
    call = Call.objects.get()
    assert (call.direction, call.phone_number, call.from_number, call.to_number, call.provider_sid) == (
        "outbound", alice_line, NUMBER, PSTN, CALL_SID)
    assert presence(org, alice) == "busy"

    # The <Dial> ends: its action comes back to the voice URL, the member is available again.
    root = place(twilio, alice, query="done=1", DialCallStatus="completed")
    assert children(root) == [("Hangup", {}, "")]
    assert presence(org, alice) == "available"
    assert Call.objects.count() == 1


def test_without_an_assigned_number_the_system_phone_is_the_caller_id(twilio, org, sandbox, alice, number):
    PhoneNumber.objects.create(org=org, connection=sandbox, e164="+14155550177", country="US", status="active",
                               is_system=True)
    root = place(twilio, alice)
    assert root.find("Dial").get("callerId") == "+14155550177"


def test_with_no_caller_id_the_member_is_told(twilio, org, alice, number):
    root = place(twilio, alice)
    assert children(root) == [("Say", {}, dial_out.NO_CALLER_ID), ("Hangup", {}, "")]
    assert not Call.objects.exists()


@pytest.mark.parametrize("caller", ["client:user_999999", "client:front_desk", "client:user_abc"])
def test_a_softphone_that_is_no_member_cannot_call(twilio, alice_line, caller):
    root = place(twilio, caller)
    assert children(root) == [("Say", {}, dial_out.NOT_A_MEMBER), ("Hangup", {}, "")]
    assert not Call.objects.exists()


def test_another_orgs_member_cannot_call_through_this_account(twilio, alice_line, charlie, other_org):
    root = place(twilio, charlie)
    assert children(root)[0] == ("Say", {}, dial_out.NOT_A_MEMBER)


@pytest.mark.parametrize("to", ["+1415", "12345", "sales", ""])
def test_a_bad_destination_is_refused(twilio, alice, alice_line, to):
    root = place(twilio, alice, to=to)
    assert children(root) == [("Say", {}, dial_out.BAD_NUMBER), ("Hangup", {}, "")]
    assert not Call.objects.exists()


def test_only_countries_the_org_allows(twilio, owner_api, org, alice, alice_line):
    # By default: the caller ID's own country.
    assert children(place(twilio, alice, to=LONDON))[0] == ("Say", {}, dial_out.COUNTRY_NOT_ALLOWED)
    assert not Call.objects.exists()
    response = owner_api.put("/phone/softphone/settings", {"allowedCountries": ["us", "GB"]}, format="json")
    assert response.status_code == 200 and response.json() == {"allowedCountries": ["US", "GB"]}
    assert children(place(twilio, alice, to=LONDON).find("Dial")) == [("Number", {}, LONDON)]
    owner_api.put("/phone/softphone/settings", {"allowedCountries": ["GB"]}, format="json")
    assert children(place(twilio, alice, call_sid="CA" + "8" * 32))[0] == ("Say", {}, dial_out.COUNTRY_NOT_ALLOWED)


def test_the_settings_api(owner_api, member_api, outsider_api, org):
    assert member_api.get("/phone/softphone/settings").json() == {"allowedCountries": []}
    assert member_api.put("/phone/softphone/settings", {"allowedCountries": ["US"]},
                          format="json").status_code == 403
    for bad in (["XX"], ["USA"], "US", [1]):
        response = owner_api.put("/phone/softphone/settings", {"allowedCountries": bad}, format="json")
        assert response.status_code == 400, bad
    assert owner_api.patch("/phone/softphone/settings", {}, format="json").json() == {"allowedCountries": []}
    org.refresh_from_db()
    assert org.softphone_countries == []
    assert outsider_api.get("/phone/softphone/settings").json() == {"allowedCountries": []}


# ---------------------------------------------------------------- presence in routing


def route(number, **document):
    routing_update(number=number, changes=document)


@pytest.mark.parametrize("status, rung", [("available", True), ("away", True), ("busy", False),
                                          ("offline", False), (None, False)])
def test_routing_rings_only_members_who_can_take_a_call(twilio, number, org, alice, status, rung):
    if status:
        softphones_on(org, alice, status=status)
    route(number, strategy="sequential", assignments=[{"type": "user", "target": "alice", "ringOrder": 1},
                                                      {"type": "phone", "target": PSTN, "ringOrder": 2}])
    dial = twiml(twilio.call()).find("Dial")
    rang = [target for tag, _, target in children(dial)]
    # Someone who cannot answer is skipped: the next step rings at once.
    assert rang == ([f"user_{alice.pk}"] if rung else [PSTN])


def test_a_busy_group_member_is_left_out(twilio, number, org, alice, member):
    from phones.models import RingGroup

    group = RingGroup.objects.create(org=org, name="Sales")
    group.members.set([alice, member])
    softphones_on(org, alice)
    softphones_on(org, member, status="busy")
    route(number, assignments=[{"type": "group", "target": group.public_id}])
    assert [t for _, _, t in children(twiml(twilio.call()).find("Dial"))] == [f"user_{alice.pk}"]


def status(twilio, user, call_status: str, sid: str = "CA" + "5" * 32):
    """A <Client> leg's status callback, as Twilio posts it for the attributes we set."""
    return twilio.post("status", {"CallSid": sid, "From": "+14155550111", "To": client(user),
                                  "CallStatus": call_status, "Direction": "outbound-dial"})


def test_answering_makes_a_member_busy_and_hanging_up_available(twilio, org, alice):
    softphones_on(org, alice)
    assert status(twilio, alice, "in-progress").status_code == 204
    assert presence(org, alice) == "busy"
    assert status(twilio, alice, "completed").status_code == 204
    assert presence(org, alice) == "available"


def test_a_call_ending_does_not_bring_an_away_or_offline_member_back(twilio, org, alice, member):
    softphones_on(org, alice, status="away")
    softphones_on(org, member, status="offline")
    status(twilio, alice, "no-answer")
    status(twilio, member, "in-progress")
    assert (presence(org, alice), presence(org, member)) == ("away", "offline")


def test_another_orgs_identity_in_a_callback_changes_nothing(twilio, org, charlie, other_org):
    softphones_on(other_org, charlie)
    status(twilio, charlie, "in-progress")
    assert presence(other_org, charlie) == "available"
    stranger = make_user("stranger")
    status(twilio, stranger, "in-progress")
    assert not SoftphonePresence.objects.filter(user=stranger).exists()
