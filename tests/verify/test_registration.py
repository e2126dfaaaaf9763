"""SMS registration: membership of the connection's messaging service, A2P 10DLC for US numbers."""
from __future__ import annotations

import pytest

from phones.verify.checks import sms_registration
from providers.base import A2PCampaign, MessagingService
from sandbox.messaging import (
    sandbox_a2p_campaign_set,
    sandbox_messaging_number_add,
    sandbox_messaging_service_create,
)
from sandbox.services import sandbox_fault_add
from tests.verify.conftest import at_provider

pytestmark = pytest.mark.django_db


def registration(api, number) -> dict:
    response = api.get("/phone/verify", {"phoneId": number.public_id})
    assert response.status_code == 200, response.json()
    return response.json()["numbers"][0]["smsRegistration"]


@pytest.fixture
def service(active_number, sandbox):
    """The connection's configured messaging service, with the number in it."""
    number = at_provider(active_number)
    number.sms = True
    number.save()
    created = sandbox_messaging_service_create(account=number.account, friendly_name="Main")
    sandbox.public_config = {"messagingServiceSid": created.sid}
    sandbox.save()
    sandbox_messaging_number_add(service=created, number=number)
    return created


@pytest.mark.parametrize("campaign, expected", [
    ("VERIFIED", "registered"), ("IN_PROGRESS", "pending"), ("PENDING", "pending"), ("FAILED", "failed"),
])
def test_it_reports_the_services_a2p_campaign(owner_api, active_number, service, campaign, expected):
    campaign_row = sandbox_a2p_campaign_set(service=service, status=campaign)
    found = registration(owner_api, active_number)
    assert found["messagingService"] == {"status": "member", "expected": service.sid, "actual": service.sid}
    assert found["a2p"] == {"status": expected, "campaignSid": campaign_row.sid, "campaignStatus": campaign}


def test_a_service_without_a_campaign_is_not_registered(owner_api, active_number, service):
    assert registration(owner_api, active_number)["a2p"]["status"] == "not_registered"


def test_a_number_outside_the_configured_service_is_not_a_member(owner_api, active_number, service):
    at_provider(active_number).service_membership.delete()
    found = registration(owner_api, active_number)
    assert found["messagingService"] == {"status": "not_member", "expected": service.sid, "actual": None}
    assert found["a2p"]["status"] == "not_registered"


def test_a_number_in_another_service_is_reported(owner_api, active_number, service):
    other = sandbox_messaging_service_create(account=service.account, friendly_name="Other")
    sandbox_messaging_number_add(service=other, number=at_provider(active_number))
    assert registration(owner_api, active_number)["messagingService"]["status"] == "other_service"


def test_when_the_services_cannot_be_read_the_webhooks_are_still_checked(owner_api, active_number, service):
    sandbox_fault_add(account_sid=service.account.sid, resource="MessagingServices", method="GET", times=5)
    response = owner_api.get("/phone/verify", {"phoneId": active_number.public_id}).json()
    entry = response["numbers"][0]
    assert entry["result"] == "ok"
    assert entry["smsRegistration"]["a2p"]["status"] == "unknown"
    assert response["summary"]["registrationErrors"]


def test_toll_free_and_non_us_numbers_need_no_10dlc_campaign():
    service = MessagingService(sid="MG1", numbers=("+18005550100",), campaigns=(A2PCampaign("QE1", "FAILED"),))
    toll_free = sms_registration(country="US", number_type="tollFree", sms_capable=True, service=service,
                                 expected_service_sid="")
    british = sms_registration(country="GB", number_type="mobile", sms_capable=True, service=None,
                               expected_service_sid="")
    assert toll_free["a2p"]["status"] == british["a2p"]["status"] == "not_applicable"
    assert british["messagingService"]["status"] == "none_configured"


def test_a_number_that_cannot_text_needs_no_registration():
    found = sms_registration(country="US", number_type="local", sms_capable=False, service=None,
                             expected_service_sid="MG1")
    assert found["messagingService"]["status"] == found["a2p"]["status"] == "not_applicable"


def test_the_best_of_several_campaigns_counts():
    service = MessagingService(sid="MG1", campaigns=(A2PCampaign("QE1", "FAILED"), A2PCampaign("QE2", "VERIFIED")))
    found = sms_registration(country="US", number_type="local", sms_capable=True, service=service,
                             expected_service_sid="MG1")
    assert found["a2p"]["campaignSid"] == "QE2"
