"""The emulator served over a real socket, used by the unmodified SDK through a base URL."""
from __future__ import annotations

import pytest

from providers.base import ProviderError, SearchCriteria
from providers.twilio.client import TwilioProvider
from sandbox.services import sandbox_account_create, sandbox_fault_add
from tests.sandbox.helpers import WEBHOOKS


@pytest.fixture
def connect(live_server, settings):
    """Providers on the served emulator. Their keep-alive sockets are closed after the test, so the
    server's request threads end while the test database is still shared with them. Loopback over
    HTTP is allowed as in local development (core.outbound)."""
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    made: list[TwilioProvider] = []

    def connect(account, auth_token=None) -> TwilioProvider:
        provider = TwilioProvider(account_sid=account.sid, auth_token=auth_token or account.auth_token,
                                  base_url=f"{live_server.url}/sandbox")
        made.append(provider)
        return provider
    yield connect
    for provider in made:
        provider.client.http_client.session.close()


@pytest.fixture
def remote(connect):
    account = sandbox_account_create(friendly_name="Over HTTP")
    return connect(account), account


def test_the_provider_works_against_the_served_emulator(remote):
    provider, account = remote
    assert provider.validate_credentials().account_id == account.sid
    offers = provider.search_available(SearchCriteria(area_code="415", sms_enabled=True, limit=5))
    assert len(offers) == 5
    bought = [provider.purchase(o.e164, WEBHOOKS) for o in offers]
    assert provider.find_owned(offers[0].e164) == bought[0]

    pages, token = [], None
    while True:
        page = provider.list_owned(token, page_size=2)
        pages.append(page.numbers)
        if not (token := page.next_page):
            break
        assert token.startswith(f"https://api.twilio.com/2010-04-01/Accounts/{account.sid}/IncomingPhoneNumbers.json")
    assert [len(p) for p in pages] == [2, 2, 1]
    assert {n.sid for p in pages for n in p} == {n.sid for n in bought}

    provider.release(bought[0].sid)
    provider.release(bought[0].sid)
    assert provider.find_owned(offers[0].e164) is None
    assert provider.send_sms(to="+14155550123", from_=offers[1].e164, body="hi").status == "queued"


def test_bad_credentials_over_http(connect):
    provider = connect(sandbox_account_create(friendly_name="Over HTTP"), auth_token="0" * 32)
    with pytest.raises(ProviderError) as caught:
        provider.validate_credentials()
    assert caught.value.code == 20003 and caught.value.permanent


def test_an_injected_timeout_over_http_is_a_transient_gateway_error(remote):
    provider, account = remote
    sandbox_fault_add(account_sid=account.sid, kind="timeout_before")
    with pytest.raises(ProviderError) as caught:
        provider.purchase("+15005550006", WEBHOOKS)
    assert caught.value.status == 504 and not caught.value.permanent
