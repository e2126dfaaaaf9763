"""Staff pages: the agents list, the agent on a number's page, checking an AI connection."""
from __future__ import annotations

import pytest

from tests.admin.conftest import staff, staff_client  # noqa: F401

pytestmark = pytest.mark.django_db


def test_agents_and_a_numbers_agent_are_shown(staff_client, agent, active_number):  # noqa: F811
    active_number.agent = agent
    active_number.save()
    assert "Front desk" in staff_client.get("/admin/phones/agent/").content.decode()
    page = staff_client.get(f"/admin/phones/phonenumber/{active_number.pk}/change/").content.decode()
    assert "Front desk" in page and "An agent answers the calls and texts" in page


def test_an_ai_connection_can_be_tested(staff_client, ai_connection):  # noqa: F811
    data = {"action": "test_credentials", "_selected_action": [ai_connection.pk]}
    page = staff_client.post("/admin/telephony/providerconnection/", data, follow=True).content.decode()
    assert "credentials work" in page
