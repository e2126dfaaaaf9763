"""A number's page reads like a provider console's: labelled capabilities and webhooks, readable
routing, SMS rules and configuration, links to its records, the actions as buttons, no Save."""
from __future__ import annotations

import re

import pytest
from django.utils import timezone

from orgs.models import AuditLog
from phones.models import Call, Job, Message, PhoneRouting, Recording
from tests.verify.conftest import second_number  # noqa: F401

pytestmark = pytest.mark.django_db

RULES = [{"type": "auto-reply", "match": {"keywords": ["hours", "open"], "mode": "contains"},
          "params": {"template": "We are open 9-5."}},
         {"type": "forward-sms", "match": {"keywords": ["urgent"], "mode": "exact"}, "params": {"to": "+14155550123"}}]
VOICE = {"strategy": "sequential", "assignments": [{"type": "phone", "target": "+14155550199", "ringOrder": 1,
                                                    "timeout": 30}],
         "voicemail": {"say": "Leave a message.", "transcribe": True}}


def page_of(client, number) -> str:
    response = client.get(f"/admin/phones/phonenumber/{number.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_reads_as_labelled_fields_not_json(staff_client, active_number):
    PhoneRouting.objects.update_or_create(phone_number=active_number, defaults={"assignments": VOICE,
                                                                                "sms_rules": RULES})
    active_number.configuration = {"voiceConfig": {"recordCalls": True}, "tracking": {"campaignId": "spring-2026"}}
    active_number.save()
    html = page_of(staff_client, active_number)
    for label in ("Voice URL", "SMS URL", "Status callback", "Voice fallback URL", "Voice", "SMS", "MMS"):
        assert f">{label}" in html or f"{label}:" in html
    assert "/connect/webhook/twilio/voice" in html and "✓ Yes" in html
    assert "Forward to +14155550199 (order 1, 30 s)" in html and "Strategy: <strong>Sequential</strong>" in html
    assert "a text that contains “hours”, “open”" in html and "Auto reply" in html
    assert "Record calls" in html and "spring-2026" in html and "Campaign id" in html
    assert '{"voiceUrl"' not in html and "&quot;voiceUrl&quot;" not in html  # no raw JSON
    assert "1.00 USD" in html or "USD" in html


def test_the_page_has_no_save_buttons_but_the_actions(staff_client, active_number):
    html = page_of(staff_client, active_number)
    assert 'name="_save"' not in html and 'name="_continue"' not in html and 'name="_addanother"' not in html
    assert 'id="do-release_numbers"' in html and 'id="do-verify_numbers"' in html


def test_the_release_button_opens_the_confirmation(staff_client, active_number):
    page = staff_client.post("/admin/phones/phonenumber/", {"action": "release_numbers", "index": 0,
                                                            "_selected_action": [active_number.pk]})
    assert "release-table" in page.content.decode() and active_number.e164 in page.content.decode()


def test_the_links_open_filtered_lists(staff_client, active_number, second_number, org):  # noqa: F811
    now = timezone.now()
    Message.objects.create(org=org, phone_number=active_number, direction="inbound", from_number="+12125550123",
                           to_number=active_number.e164, body="mine", created_at=now)
    Message.objects.create(org=org, phone_number=second_number, direction="inbound", from_number="+12125550123",
                           to_number=second_number.e164, body="other", created_at=now)
    call = Call.objects.create(org=org, phone_number=active_number, direction="inbound", from_number="+1212",
                               to_number=active_number.e164, provider_sid="CA1", status="completed", duration=61)
    Recording.objects.create(org=org, call=call, call_sid="CA1", provider_sid="RE1", status="completed")
    AuditLog.objects.create(org=org, action="phone.note", target_type="phones.phonenumber",
                            target_id=second_number.public_id)
    html = page_of(staff_client, active_number)
    links = dict(re.findall(r'<li><a href="([^"]+)">([^<]+)</a>', html.split('related-links')[1].split("</ul>")[0]))
    assert set(links.values()) == {"Messages", "Calls", "Recordings", "Jobs", "Ledger entries", "Audit entries"}
    expected = {"Messages": (Message, 1), "Calls": (Call, 1), "Recordings": (Recording, 1), "Jobs": (Job, 1),
                "Ledger entries": (None, 1), "Audit entries": (None, 1)}
    for url, label in links.items():
        response = staff_client.get(url.replace("&amp;", "&"))
        assert response.status_code == 200, (label, url)
        assert "?e=1" not in response.get("Location", "")
        assert len(response.context["cl"].result_list) == expected[label][1], label


def test_the_page_costs_a_bounded_number_of_queries(staff_client, active_number, django_assert_max_num_queries):
    with django_assert_max_num_queries(30):
        page_of(staff_client, active_number)


def test_the_numbers_list_has_the_actions(staff_client, active_number):
    html = staff_client.get("/admin/phones/phonenumber/").content.decode()
    assert "release_numbers" in html and "+1 415" in html
