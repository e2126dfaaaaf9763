"""Recording media in the sandbox, as Twilio serves it (WAV by default, MP3 with the extension), with
byte ranges; fetched and deleted by TwilioProvider over a real socket (ProviderHttpClient.stream)."""
from __future__ import annotations

import pytest

from providers.base import ProviderError
from providers.twilio.client import TwilioProvider
from sandbox import media, twilio_json
from sandbox.models import SandboxCall
from sandbox.services import sandbox_account_create
from tests.sandbox.test_over_http import connect  # noqa: F401

RECORDING = "RE" + "0123456789abcdef" * 2


@pytest.fixture
def recorded(db):
    account = sandbox_account_create(friendly_name="Recorded")
    SandboxCall.objects.create(sid="CA" + "1" * 32, account=account, to="+14155550100", from_number="+14155550111",
                               status="completed", recording_sid=RECORDING, recording_status="completed")
    return account


def test_the_provider_streams_a_range_over_http_and_deletes(connect, recorded):  # noqa: F811
    provider: TwilioProvider = connect(recorded)
    expected = media.mp3(twilio_json.RECORDING_SECONDS)

    whole = provider.recording_media(RECORDING)
    try:
        assert (whole.status, whole.content_type, whole.content_length) == (200, "audio/mpeg", len(expected))
        assert whole.accept_ranges == "bytes"
        assert b"".join(whole.chunks) == expected
    finally:
        whole.close()

    part = provider.recording_media(RECORDING, byte_range="bytes=100-4099")
    try:
        assert part.status == 206 and part.content_range == f"bytes 100-4099/{len(expected)}"
        assert b"".join(part.chunks) == expected[100:4100]
    finally:
        part.close()

    wav = provider.recording_media(RECORDING, audio_format="wav", byte_range="bytes=0-3")
    assert b"".join(wav.chunks) == b"RIFF" and wav.content_type == "audio/x-wav"
    wav.close()

    provider.delete_recording(RECORDING)
    provider.delete_recording(RECORDING)  # already gone: not an error
    with pytest.raises(ProviderError) as gone:
        provider.recording_media(RECORDING)
    assert gone.value.status == 404 and gone.value.permanent


def test_a_recording_sid_never_changes_the_path(connect, recorded):  # noqa: F811
    provider = connect(recorded)
    for bad in ("../Calls", "RE123", RECORDING + "/x", ""):
        with pytest.raises(ProviderError) as refused:
            provider.recording_media(bad)
        assert refused.value.status == 404
        with pytest.raises(ProviderError):
            provider.delete_recording(bad)


def test_the_emulator_serves_wav_by_default_and_mp3_by_extension(client, recorded):
    import base64

    auth = "Basic " + base64.b64encode(f"{recorded.sid}:{recorded.auth_token}".encode()).decode()
    base = f"/sandbox/2010-04-01/Accounts/{recorded.sid}/Recordings/{RECORDING}"
    wav = client.get(base, HTTP_AUTHORIZATION=auth)
    assert wav.status_code == 200 and wav["Content-Type"] == "audio/x-wav"
    assert b"".join(wav.streaming_content) == media.wav(twilio_json.RECORDING_SECONDS)
    ranged = client.get(f"{base}.mp3", HTTP_AUTHORIZATION=auth, HTTP_RANGE="bytes=-417")
    assert ranged.status_code == 206 and b"".join(ranged.streaming_content) == media.MP3_FRAME
    several = client.get(f"{base}.mp3", HTTP_AUTHORIZATION=auth, HTTP_RANGE="bytes=0-1,5-6")
    assert several.status_code == 200  # several ranges: the whole file, as RFC 9110 allows
    assert client.get(f"{base}.mp3").status_code == 401
    assert client.delete(f"{base}.json", HTTP_AUTHORIZATION=auth).status_code == 204
    assert client.get(f"{base}.mp3", HTTP_AUTHORIZATION=auth).status_code == 404
