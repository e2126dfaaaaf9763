"""/sandbox/simulate is the admin's own page: linked from the index, with the admin's header,
saying when digits given were not used."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_index_links_to_the_simulator(staff_client):
    assert 'href="/sandbox/simulate"' in staff_client.get("/admin/").content.decode()


def test_the_simulator_keeps_the_admin_header(staff_client):
    html = staff_client.get("/sandbox/simulate").content.decode()
    assert 'id="site-name"' in html and 'id="user-tools"' in html and "Log out" in html
    assert 'class="breadcrumbs"' in html


def test_digits_given_for_a_text_are_said_unused(staff_client, active_number):
    html = staff_client.post("/sandbox/simulate", {"kind": "sms", "to": active_number.e164, "from_": "+14155550111",
                                                   "body": "hello", "digits": "1,2"}).content.decode()
    assert "Digits not used" in html and "1,2" in html


def test_digits_left_when_a_call_ends_are_said_unused(staff_client, active_number):
    html = staff_client.post("/sandbox/simulate", {"kind": "call", "to": active_number.e164, "from_": "+14155550111",
                                                   "digits": "1,2,3"}).content.decode()
    # Voice mode (no menu): no key is ever asked for.
    assert "Digits not used: <strong>1, 2, 3</strong>" in html


def test_no_warning_when_no_digits_were_given(staff_client, active_number):
    html = staff_client.post("/sandbox/simulate", {"kind": "call", "to": active_number.e164,
                                                   "from_": "+14155550111"}).content.decode()
    assert "Digits not used" not in html
