"""Each provider's recording calls: Twilio plays (streamed, from its own API host only) and deletes;
Plivo and Telnyx delete, and say plainly that they cannot play through the platform."""
from __future__ import annotations

import pytest

from providers.base import ProviderError
from providers.twilio.client import TwilioProvider
from tests.providers import test_plivo as plivo
from tests.providers import test_telnyx as telnyx
from tests.providers.test_plivo import FakeApi

PLIVO_RECORDING = "c2186400-1c8c-11e4-a664-0026b945b520"
TELNYX_RECORDING = "428c31b6-7af4-4bcb-b7f5-5013ef9657c1"


def test_plivo_deletes_a_recording_and_one_already_gone_is_fine():
    path = f"{plivo.ACCOUNT}Recording/{PLIVO_RECORDING}/"
    api = FakeApi().on("DELETE", path, (204, {}))
    plivo.provider_for(api).delete_recording(PLIVO_RECORDING)
    assert [(r.method, r.url.path) for r in api.requests] == [("DELETE", path)]
    gone = FakeApi().on("DELETE", path, (404, {"error": "not found"}))
    plivo.provider_for(gone).delete_recording(PLIVO_RECORDING)


def test_plivo_refuses_an_id_that_would_change_the_path_and_cannot_play():
    provider = plivo.provider_for(FakeApi())
    with pytest.raises(ValueError):
        provider.delete_recording("../Number/14155550142")
    with pytest.raises(ProviderError) as unsupported:
        provider.recording_media(PLIVO_RECORDING)
    assert unsupported.value.code == "unsupported" and unsupported.value.permanent


def test_telnyx_deletes_a_recording_and_a_refusal_is_an_error():
    path = f"{telnyx.V2}recordings/{TELNYX_RECORDING}"
    api = FakeApi().on("DELETE", path, (200, {"data": {"id": TELNYX_RECORDING}}))
    telnyx.provider_for(api).delete_recording(TELNYX_RECORDING)
    assert [(r.method, r.url.path) for r in api.requests] == [("DELETE", path)]
    refused = FakeApi().on("DELETE", path, (403, {"errors": [{"code": "10010", "title": "Forbidden"}]}))
    with pytest.raises(ProviderError):
        telnyx.provider_for(refused).delete_recording(TELNYX_RECORDING)
    with pytest.raises(ProviderError) as unsupported:
        telnyx.provider_for(api).recording_media(TELNYX_RECORDING)
    assert unsupported.value.code == "unsupported"


def test_twilio_media_goes_only_where_the_outbound_guard_allows(settings):
    """A connection's apiBaseUrl pointing inward (a metadata address) is refused before anything is
    sent, the recording's credentials with it."""
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    provider = TwilioProvider(account_sid="AC" + "0" * 32, auth_token="t" * 32, base_url="http://169.254.169.254")
    with pytest.raises(ProviderError) as refused:
        provider.recording_media("RE" + "0" * 32)
    assert refused.value.code == "destination_refused" and refused.value.permanent
