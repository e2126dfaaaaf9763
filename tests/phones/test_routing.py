"""GET/PUT /phone/numbers/{id}/routing and /sms-rules: documents that save and round-trip, every
validation rule refused with the field that broke it (and nothing saved), roles and outsiders."""
import copy

import pytest

from orgs.models import ProviderConnection
from phones.calls.api import EXAMPLE_IVR_FLOW, EXAMPLE_VOICE
from phones.messaging.api import EXAMPLE_SMS_RULES
from phones.models import PhoneNumber, PhoneRouting, RingGroup

pytestmark = pytest.mark.django_db

EXAMPLE_GROUP_ID = EXAMPLE_VOICE["assignments"][2]["target"]


def make_number(org, e164="+14155550100", status="active") -> PhoneNumber:
    connection = ProviderConnection.objects.create(org=org, type="sandbox-provider", name="s",
                                                   account_id="AC" + "0" * 32)
    return PhoneNumber.objects.create(org=org, connection=connection, e164=e164, country="US", status=status)


@pytest.fixture
def number(org, member):
    RingGroup.objects.create(org=org, name="Sales", public_id=EXAMPLE_GROUP_ID)
    return make_number(org)


@pytest.fixture
def foreign_group(other_org):
    return RingGroup.objects.create(org=other_org, name="Theirs")


def url(number, what="routing"):
    return f"/phone/numbers/{number.public_id}/{what}"


def put(api, number, body, what="routing"):
    return api.put(url(number, what), body, format="json")


def stored(number) -> PhoneRouting | None:
    return PhoneRouting.objects.filter(phone_number=number).first()


# ------------------------------------------------------------------ documents that save

def test_a_new_number_has_default_routing_created_on_first_read(member_api, number):
    response = member_api.get(url(number))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert {k: body[k] for k in ("mode", "strategy", "assignments", "voicemail", "ivrFlow")} == {
        "mode": "voice", "strategy": "simultaneous", "assignments": [], "voicemail": None, "ivrFlow": None}
    assert stored(number) is not None
    assert member_api.get(url(number, "sms-rules")).json() == {"rules": []}


def test_voice_assignments_save_normalised_and_round_trip(owner_api, number):
    body = copy.deepcopy(EXAMPLE_VOICE)
    body["assignments"][3]["target"] = "+1 (415) 555-0199"
    response = put(owner_api, number, body)
    assert response.status_code == 200, response.json()
    saved = response.json()
    assert saved["strategy"] == "sequential"
    assert [a["target"] for a in saved["assignments"]] == ["alice", "front_desk", EXAMPLE_GROUP_ID, "+14155550199"]
    assert saved["assignments"][1] == {"type": "client", "target": "front_desk", "ringOrder": 1, "timeout": 20}
    assert saved["voicemail"] == {**EXAMPLE_VOICE["voicemail"]}
    assert owner_api.get(url(number)).json() == saved


def test_assignments_are_kept_in_ring_order(owner_api, number):
    response = put(owner_api, number, {"assignments": [
        {"type": "phone", "target": "+14155550101", "ringOrder": 2},
        {"type": "user", "target": "bob", "ringOrder": 1},
        {"type": "queue", "target": "support", "ringOrder": 3}]})
    assert response.status_code == 200, response.json()
    assert [a["type"] for a in response.json()["assignments"]] == ["user", "phone", "queue"]


def test_an_ivr_flow_saves_with_defaults_filled_in_and_round_trips(admin_api, number):
    response = put(admin_api, number, {"ivrFlow": EXAMPLE_IVR_FLOW})
    assert response.status_code == 200, response.json()
    flow = response.json()["ivrFlow"]
    assert flow["entry"] == "main" and flow["fallback"] == "voicemail" and flow["maxRetries"] == 2
    assert set(flow["nodes"]) == set(EXAMPLE_IVR_FLOW["nodes"])
    assert flow["nodes"]["support"]["timeout"] == 5
    assert flow["nodes"]["operator"] == {"type": "transfer-phone", "number": "+14155550123", "timeout": 30,
                                         "next": "voicemail"}
    assert stored(number).ivr_flow == flow
    assert admin_api.get(url(number)).json()["ivrFlow"] == flow


def test_a_partial_put_keeps_what_it_does_not_name(owner_api, number):
    put(owner_api, number, {**EXAMPLE_VOICE, "ivrFlow": EXAMPLE_IVR_FLOW})
    response = put(owner_api, number, {"strategy": "simultaneous"})
    assert response.status_code == 200
    body = response.json()
    assert body["strategy"] == "simultaneous"
    assert len(body["assignments"]) == 4 and body["voicemail"] and body["ivrFlow"]["entry"] == "main"
    body = put(owner_api, number, {"ivrFlow": None, "voicemail": None}).json()
    assert body["ivrFlow"] is None and body["voicemail"] is None and len(body["assignments"]) == 4
    assert stored(number).ivr_flow == {}


def test_sms_rules_save_normalised_and_round_trip(owner_api, number):
    response = put(owner_api, number, {"rules": EXAMPLE_SMS_RULES}, "sms-rules")
    assert response.status_code == 200, response.json()
    rules = response.json()["rules"]
    assert [r["type"] for r in rules] == [r["type"] for r in EXAMPLE_SMS_RULES]
    assert rules[0] == {"type": "opt-out", "match": None, "params": {"keywords": ["REMOVE"]}}
    assert rules[4]["match"] is None
    assert owner_api.get(url(number, "sms-rules")).json() == {"rules": rules}
    assert stored(number).sms_rules == rules


def test_match_mode_defaults_to_exact(owner_api, number):
    rules = [{"type": "add-tag", "match": {"keywords": ["Hi"]}, "params": {"tag": "greeted"}}]
    response = put(owner_api, number, {"rules": rules}, "sms-rules")
    assert response.json()["rules"][0]["match"] == {"keywords": ["Hi"], "mode": "exact"}


# ------------------------------------------------------------------ what is refused

def _flow(change):
    flow = copy.deepcopy(EXAMPLE_IVR_FLOW)
    change(flow)
    return flow


def _node(node_id, **changes):
    def change(flow):
        flow["nodes"][node_id].update(changes)
        for key in [k for k, v in changes.items() if v is None]:
            del flow["nodes"][node_id][key]
    return change


def _loop(flow):
    flow["nodes"]["record"]["next"] = "pause"
    flow["nodes"]["pause"] = {"type": "pause-recording", "next": "resume"}
    flow["nodes"]["resume"] = {"type": "resume-recording", "next": "record"}


IVR_CASES = [
    ("entry missing", lambda f: f.pop("entry"), "ivrFlow.entry", "required"),
    ("entry unknown", lambda f: f.update(entry="nowhere"), "ivrFlow.entry", "No node 'nowhere'"),
    ("entry not one node", lambda f: f.update(entry=["main", "support"]), "ivrFlow.entry", ""),
    ("no nodes", lambda f: f.update(nodes={}), "ivrFlow.nodes", ""),
    ("unknown flow key", lambda f: f.update(colour="red"), "ivrFlow.colour", "Unknown field"),
    ("fallback unknown", lambda f: f.update(fallback="nowhere"), "ivrFlow.fallback", "No node"),
    ("fallback into a menu", lambda f: (f.update(fallback="text-link"), f["nodes"]["text-link"].update(next="support")),
     "ivrFlow.fallback", "menu 'support'"),
    ("maxRetries too high", lambda f: f.update(maxRetries=6), "ivrFlow.maxRetries", ""),
    ("node id not a slug", lambda f: f["nodes"].update({"not a slug": {"type": "hangup"}}),
     "ivrFlow.nodes.not a slug", "slug"),
    ("node not an object", lambda f: f["nodes"].update(goodbye="hangup"), "ivrFlow.nodes.goodbye", ""),
    ("unknown node type", _node("goodbye", type="dance"), "ivrFlow.nodes.goodbye.type", "Use one of"),
    ("unknown node parameter", _node("main", colour="red"), "ivrFlow.nodes.main.colour", "Unknown field"),
    ("option to a missing node", lambda f: f["nodes"]["main"]["options"].update({"1": "ghost"}),
     "ivrFlow.nodes.main.options.1", "No node 'ghost'"),
    ("option key not a key", lambda f: f["nodes"]["main"]["options"].update({"12": "main"}),
     "ivrFlow.nodes.main.options.12", "single keys"),
    ("option target not a slug", lambda f: f["nodes"]["main"]["options"].update({"3": "a b"}),
     "ivrFlow.nodes.main.options.3", "slug"),
    ("menu without options", _node("main", options={}), "ivrFlow.nodes.main.options", ""),
    ("menu without a prompt", _node("main", say=None, voice=None, language=None), "ivrFlow.nodes.main.say",
     "prompt is required"),
    ("menu with say and play", _node("main", play="https://example.com/a.mp3"), "ivrFlow.nodes.main.play", ""),
    ("voice without say", _node("support", voice="alice"), "ivrFlow.nodes.support.voice", "only applies"),
    ("bad voice", _node("main", voice="robot"), "ivrFlow.nodes.main.voice", ""),
    ("play not a URL", _node("support", play="support.mp3"), "ivrFlow.nodes.support.play", "http(s) URL"),
    ("play over ftp", _node("support", play="ftp://example.com/a.mp3"), "ivrFlow.nodes.support.play", ""),
    ("menu timeout", _node("main", timeout=0), "ivrFlow.nodes.main.timeout", ""),
    ("noInput to a missing node", _node("support", noInput="ghost"), "ivrFlow.nodes.support.noInput", "No node"),
    ("transfer-phone bad number", _node("operator", number="555"), "ivrFlow.nodes.operator.number", "E.164"),
    ("transfer-phone bad callerId", _node("operator", callerId="x"), "ivrFlow.nodes.operator.callerId", ""),
    ("transfer next missing", _node("operator", next="ghost"), "ivrFlow.nodes.operator.next", "No node"),
    ("transfer-user not a member", _node("operator", type="transfer-user", number=None, user="charlie"),
     "ivrFlow.nodes.operator.user", "No member 'charlie'"),
    ("transfer-group of another org", None, "ivrFlow.nodes.sales.group", "No ring group"),
    ("transfer-queue bad name", _node("operator", type="transfer-queue", number=None, next=None, queue="#q"),
     "ivrFlow.nodes.operator.queue", ""),
    ("voicemail maxLength", _node("voicemail", maxLength=3601), "ivrFlow.nodes.voicemail.maxLength", ""),
    ("voicemail transcribe", _node("voicemail", transcribe="perhaps"), "ivrFlow.nodes.voicemail.transcribe", ""),
    ("send-sms bad to", _node("text-link", to="the caller"), "ivrFlow.nodes.text-link.to", ""),
    ("send-sms body too long", _node("text-link", body="x" * 1601), "ivrFlow.nodes.text-link.body", ""),
    ("send-sms without next", _node("text-link", next=None), "ivrFlow.nodes.text-link.next", "required"),
    ("ai-assistant https", _node("agent", url="https://voice.example.com"), "ivrFlow.nodes.agent.url", "wss://"),
    ("ai-assistant parameter not a string", _node("agent", parameters={"persona": {"a": 1}}),
     "ivrFlow.nodes.agent.parameters.persona", ""),
    ("recording without next", _node("record", next=None), "ivrFlow.nodes.record.next", "required"),
    ("hangup parameter", _node("goodbye", next="main"), "ivrFlow.nodes.goodbye.next", "Unknown field"),
    ("loop without a menu", _loop, "ivrFlow.nodes.record.next", "record → pause → resume → record"),
    ("node looping to itself", _node("record", next="record"), "ivrFlow.nodes.record.next", "record → record"),
]


@pytest.mark.parametrize("name, change, field, message", IVR_CASES, ids=[c[0] for c in IVR_CASES])
def test_a_bad_ivr_flow_is_refused_naming_node_and_field(owner_api, number, foreign_group, name, change, field,
                                                         message):
    put(owner_api, number, {"ivrFlow": EXAMPLE_IVR_FLOW})
    before = stored(number).ivr_flow
    if change is None:
        change = _node("sales", group=foreign_group.public_id)
    response = put(owner_api, number, {"ivrFlow": _flow(change)})
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["field"] == field, error
    assert message in error["message"]
    assert stored(number).ivr_flow == before


def test_every_error_in_a_document_is_reported_at_once(owner_api, number):
    flow = _flow(_node("main", colour="red"))
    flow["nodes"]["operator"]["number"] = "555"
    response = put(owner_api, number, {"ivrFlow": flow})
    assert set(response.json()["error"]["details"]) == {"ivrFlow.nodes.main.colour",
                                                        "ivrFlow.nodes.operator.number"}


def _assignments(index, **changes):
    def change(body):
        body["assignments"][index].update(changes)
    return change


VOICE_CASES = [
    ("unknown assignment type", _assignments(0, type="pager"), "assignments[0].type"),
    ("user not a member", _assignments(0, target="charlie"), "assignments[0].target"),
    ("user id instead of username", _assignments(0, target=1), "assignments[0].target"),
    ("group of another org", None, "assignments[2].target"),
    ("bad client identity", _assignments(1, target="front desk!"), "assignments[1].target"),
    ("bad phone", _assignments(3, target="12"), "assignments[3].target"),
    ("ring timeout", _assignments(0, timeout=2), "assignments[0].timeout"),
    ("ringOrder", _assignments(0, ringOrder=0), "assignments[0].ringOrder"),
    ("unknown assignment key", _assignments(0, colour="red"), "assignments[0].colour"),
    ("twice the same target", _assignments(1, type="user", target="alice"), "assignments[1].target"),
    ("queue not last", _assignments(2, type="queue", target="support"), "assignments[2].ringOrder"),
    ("assignments not a list", lambda b: b.update(assignments={"type": "user"}), "assignments"),
    ("too many assignments", lambda b: b.update(assignments=[
        {"type": "phone", "target": f"+1415555{i:04d}"} for i in range(21)]), "assignments"),
    ("unknown strategy", lambda b: b.update(strategy="random"), "strategy"),
    ("voicemail maxLength", lambda b: b["voicemail"].update(maxLength=4000), "voicemail.maxLength"),
    ("voicemail unknown key", lambda b: b["voicemail"].update(beep=False), "voicemail.beep"),
    ("mode belongs to POST", lambda b: b.update(mode="ivr"), "mode"),
    ("unknown top-level key", lambda b: b.update(rules=[]), "rules"),
]


@pytest.mark.parametrize("name, change, field", VOICE_CASES, ids=[c[0] for c in VOICE_CASES])
def test_bad_voice_routing_is_refused_naming_item_and_field(owner_api, number, foreign_group, name, change, field):
    put(owner_api, number, EXAMPLE_VOICE)
    before = stored(number).assignments
    body = copy.deepcopy(EXAMPLE_VOICE)
    (change or _assignments(2, target=foreign_group.public_id))(body)
    response = put(owner_api, number, body)
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["field"] == field, response.json()
    assert stored(number).assignments == before


def test_mode_is_refused_pointing_at_post(owner_api, number):
    response = put(owner_api, number, {"mode": "ivr"})
    assert "POST" in response.json()["error"]["message"]
    assert PhoneNumber.objects.get(pk=number.pk).routing_mode == "voice"


def test_an_empty_put_is_refused(owner_api, number):
    assert put(owner_api, number, {}).status_code == 400


def test_a_second_queue_is_refused(owner_api, number):
    response = put(owner_api, number, {"assignments": [{"type": "queue", "target": "a"},
                                                       {"type": "queue", "target": "b"}]})
    assert response.json()["error"]["field"] == "assignments[1].type"


def _rule(index, **changes):
    def change(rules):
        rules[index].update(changes)
    return change


def _params(index, **changes):
    def change(rules):
        rules[index]["params"].update(changes)
        for key in [k for k, v in changes.items() if v is None]:
            del rules[index]["params"][key]
    return change


SMS_CASES = [
    ("unknown rule type", _rule(4, type="teleport"), "rules[4].type"),
    ("unknown rule key", _rule(4, priority=1), "rules[4].priority"),
    ("unknown param", _params(4, colour="red"), "rules[4].params.colour"),
    ("template variable not allowed", _params(1, template="Hi {{ password }}"), "rules[1].params.template"),
    ("template braces unbalanced", _params(1, template="Hi {{firstName"), "rules[1].params.template"),
    ("template missing", _params(1, template=None), "rules[1].params.template"),
    ("match mode", _rule(1, match={"keywords": ["hours"], "mode": "regex"}), "rules[1].match.mode"),
    ("match without keywords", _rule(1, match={"keywords": []}), "rules[1].match.keywords"),
    ("go-to-flow without flowId", _rule(4, type="go-to-flow", params={}), "rules[4].params.flowId"),
    ("trigger-automation bad id", _rule(4, type="trigger-automation", params={"automationId": "a b"}),
     "rules[4].params.automationId"),
    ("fill-form without fields", _params(2, fields=[]), "rules[2].params.fields"),
    ("fill-form with 21 fields", _params(2, fields=[{"name": f"f{i}", "prompt": "?"} for i in range(21)]),
     "rules[2].params.fields"),
    ("fill-form field asked twice", _params(2, fields=[{"name": "email", "prompt": "?"},
                                                       {"name": "email", "prompt": "again?"}]),
     "rules[2].params.fields[1].name"),
    ("fill-form field without prompt", _params(2, fields=[{"name": "email"}]), "rules[2].params.fields[0].prompt"),
    ("fill-form completeMessage variable", _params(2, completeMessage="Sent to {{phone}}"),
     "rules[2].params.completeMessage"),
    ("fill-form without completeMessage", _params(2, completeMessage=None), "rules[2].params.completeMessage"),
    ("forward-sms bad to", _params(3, to="staff"), "rules[3].params.to"),
    ("ai-assistant instructions too long", _rule(4, type="ai-assistant", params={"instructions": "x" * 4001}),
     "rules[4].params.instructions"),
    ("add-tag without tag", _params(4, tag=None), "rules[4].params.tag"),
    ("create-lead bad tag", _params(5, tags=["a,b"]), "rules[5].params.tags[0]"),
    ("opt-out with match", _rule(0, match={"keywords": ["bye"]}), "rules[0].match"),
    ("opt-in keyword that means stop", _rule(0, type="opt-in", params={"keywords": ["stop"]}),
     "rules[0].params.keywords[0]"),
    ("opt-out keyword not a word", _params(0, keywords=["no more"]), "rules[0].params.keywords[0]"),
    ("too many rules", lambda rules: rules.extend([{"type": "add-tag", "params": {"tag": "t"}}] * 45), "rules"),
]


@pytest.mark.parametrize("name, change, field", SMS_CASES, ids=[c[0] for c in SMS_CASES])
def test_bad_sms_rules_are_refused_naming_rule_and_field(owner_api, number, name, change, field):
    put(owner_api, number, {"rules": EXAMPLE_SMS_RULES}, "sms-rules")
    before = stored(number).sms_rules
    rules = copy.deepcopy(EXAMPLE_SMS_RULES)
    change(rules)
    response = put(owner_api, number, {"rules": rules}, "sms-rules")
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["field"] == field, response.json()
    assert stored(number).sms_rules == before


def test_rules_must_be_a_list(owner_api, number):
    response = put(owner_api, number, {"rules": {"type": "add-tag"}}, "sms-rules")
    assert response.json()["error"]["field"] == "rules"


# ------------------------------------------------------------------ who may

def test_a_member_reads_but_cannot_change_routing(member_api, number):
    assert member_api.get(url(number)).status_code == 200
    assert member_api.get(url(number, "sms-rules")).status_code == 200
    assert put(member_api, number, {"strategy": "sequential"}).status_code == 403
    assert put(member_api, number, {"rules": []}, "sms-rules").status_code == 403
    assert not PhoneRouting.objects.filter(phone_number=number).exclude(assignments=[]).exists()


@pytest.mark.parametrize("method, what, body", [
    ("get", "routing", None), ("put", "routing", {"strategy": "sequential"}),
    ("get", "sms-rules", None), ("put", "sms-rules", {"rules": []}),
])
def test_an_outsider_gets_404_for_another_orgs_number(outsider_api, number, method, what, body):
    response = getattr(outsider_api, method)(url(number, what), body, format="json")
    assert response.status_code == 404
    assert stored(number) is None


@pytest.mark.parametrize("status", ["released", "failed", "releasing"])
def test_a_number_on_its_way_out_can_be_read_not_rerouted(owner_api, org, status):
    number = make_number(org, e164="+14155550111", status=status)
    assert owner_api.get(url(number)).status_code == 200
    response = put(owner_api, number, {"strategy": "sequential"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "number_not_active"
    assert put(owner_api, number, {"rules": []}, "sms-rules").status_code == 409
    assert stored(number).assignments == []
