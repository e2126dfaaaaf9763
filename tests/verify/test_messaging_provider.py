"""TwilioProvider.list_messaging_services against the emulator's Messaging API v1, in-process
and over HTTP: services, their numbers, A2P campaigns, paging and auth."""
from __future__ import annotations

import pytest

from providers.base import A2PCampaign, ProviderError, SearchCriteria
from providers.twilio.client import TwilioProvider
from sandbox.messaging import sandbox_a2p_campaign_set, sandbox_messaging_number_add, sandbox_messaging_service_create
from sandbox.services import sandbox_account_create, sandbox_fault_add
from tests.sandbox.helpers import WEBHOOKS, recording_provider, sandbox_provider


@pytest.fixture
def account(db):
    return sandbox_account_create(friendly_name="Messaging")


def _buy(provider, count: int, area_code: str = "415"):
    offers = provider.search_available(SearchCriteria(area_code=area_code, limit=count))
    return [provider.purchase(o.e164, WEBHOOKS) for o in offers]


def test_it_lists_services_with_their_numbers_and_campaigns(account):
    provider = sandbox_provider(account)
    first, second, outside = _buy(provider, 3)
    service = sandbox_messaging_service_create(account=account, friendly_name="Marketing")
    for bought in (first, second):
        sandbox_messaging_number_add(service=service, number=account.numbers.get(sid=bought.sid))
    sandbox_a2p_campaign_set(service=service, status="VERIFIED", use_case="MARKETING")
    sandbox_messaging_service_create(account=account, friendly_name="Empty", use_inbound_webhook_on_number=True)

    found = {s.friendly_name: s for s in provider.list_messaging_services()}

    marketing = found["Marketing"]
    assert marketing.sid == service.sid
    assert set(marketing.numbers) == {first.e164, second.e164}
    assert marketing.campaigns == (A2PCampaign(sid=service.campaigns.get().sid, status="VERIFIED",
                                               use_case="MARKETING"),)
    assert marketing.use_inbound_webhook_on_number is False
    assert found["Empty"].numbers == () and found["Empty"].campaigns == ()
    assert found["Empty"].use_inbound_webhook_on_number is True
    assert outside.e164 not in marketing.numbers


def test_it_asks_for_pages_of_1000_and_one_list_per_service(account):
    provider, http = recording_provider(account)
    bought = _buy(provider, 3)
    service = sandbox_messaging_service_create(account=account, friendly_name="Pool")
    for number in bought:
        sandbox_messaging_number_add(service=service, number=account.numbers.get(sid=number.sid))
    http.sent.clear()

    provider.list_messaging_services()

    urls = [url for _, url, _, _ in http.sent]
    assert [u.split("/v1")[1].split("?")[0] for u in urls] == [
        "/Services", f"/Services/{service.sid}/PhoneNumbers", f"/Services/{service.sid}/Compliance/Usa2p"]
    assert http.sent[0][2]["PageSize"] == 1000


def test_another_accounts_services_are_not_seen(account):
    other = sandbox_account_create(friendly_name="Other")
    sandbox_messaging_service_create(account=other, friendly_name="Theirs")
    assert sandbox_provider(account).list_messaging_services() == []


def test_bad_credentials_are_a_permanent_error(account):
    provider = TwilioProvider(account_sid=account.sid, auth_token="0" * 32,
                              http_client=sandbox_provider(account).client.http_client)
    with pytest.raises(ProviderError) as caught:
        provider.list_messaging_services()
    assert caught.value.permanent


def test_an_injected_failure_is_transient(account):
    sandbox_fault_add(account_sid=account.sid, resource="MessagingServices", method="GET")
    with pytest.raises(ProviderError) as caught:
        sandbox_provider(account).list_messaging_services()
    assert not caught.value.permanent


def test_it_works_over_http(live_server, account, settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = True  # as in local development (core.outbound)
    service = sandbox_messaging_service_create(account=account, friendly_name="Served")
    sandbox_a2p_campaign_set(service=service, status="FAILED")
    provider = TwilioProvider(account_sid=account.sid, auth_token=account.auth_token,
                              base_url=f"{live_server.url}/sandbox")
    try:
        [served] = provider.list_messaging_services()
    finally:
        provider.client.http_client.session.close()
    assert served.sid == service.sid and served.campaigns[0].status == "FAILED"


def test_a_number_is_in_one_service_at_a_time(account):
    provider = sandbox_provider(account)
    [bought] = _buy(provider, 1)
    number = account.numbers.get(sid=bought.sid)
    first = sandbox_messaging_service_create(account=account, friendly_name="First")
    second = sandbox_messaging_service_create(account=account, friendly_name="Second")
    sandbox_messaging_number_add(service=first, number=number)
    sandbox_messaging_number_add(service=second, number=number)
    found = {s.friendly_name: s.numbers for s in provider.list_messaging_services()}
    assert found == {"First": (), "Second": (bought.e164,)}
