"""Recordings you can play: a simulated call leaves a recording (and its transcription) through the
sandbox's callbacks; the API lists and shows it with a signed link that streams the sandbox's audio
(byte ranges included) with no token; deleting deletes at the provider first; retention acts."""
from __future__ import annotations

import time
import tracemalloc
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from orgs.audit import audit_list
from phones.calls.routing import routing_update
from phones.models import Call, Recording
from phones.recordings import signing
from phones.recordings.services import recordings_expire
from phones.recordings.tasks import delete_expired_recordings
from sandbox import media, twilio_json
from sandbox.models import SandboxCall
from sandbox.services import sandbox_fault_add
from sandbox.simulate import simulate_call
from tests.conftest import api_client

PUBLIC = "https://app.example.com"
CALLER = "+14155550111"
VOICEMAIL_FLOW = {"entry": "vm", "nodes": {"vm": {"type": "voicemail", "say": "Leave a message.", "maxLength": 60,
                                                  "transcribe": True}}}


@pytest.fixture(autouse=True)
def public_base_url(settings):
    settings.PUBLIC_BASE_URL = PUBLIC


def record_a_call(number, django_capture_on_commit_callbacks) -> Recording:
    """A caller leaves a voicemail on `number` (IVR voicemail with transcription), in the sandbox."""
    number.routing_mode = "ivr"
    number.save(update_fields=["routing_mode"])
    routing_update(number=number, changes={"ivrFlow": VOICEMAIL_FLOW})
    before = set(Recording.objects.values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        simulate_call(to=number.e164, from_=CALLER, digits=[])
    return Recording.objects.exclude(pk__in=before).get()


@pytest.fixture
def recording(active_number, django_capture_on_commit_callbacks) -> Recording:
    return record_a_call(active_number, django_capture_on_commit_callbacks)


def sandbox_call(recording: Recording) -> SandboxCall:
    return SandboxCall.objects.get(sid=recording.call_sid)


def media_path(api, recording: Recording) -> str:
    """The signed link the API gives, as a path with its query (the test client has no host)."""
    url = api.get(f"/recordings/{recording.public_id}").json()["mediaUrl"]
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == PUBLIC
    return f"{parts.path}?{parts.query}"


def body(response) -> bytes:
    return b"".join(response.streaming_content)


# ---------------------------------------------------------------- stored from the simulated call

def test_a_simulated_voicemail_leaves_a_recording_with_its_transcription(recording, active_number):
    live = sandbox_call(recording)
    assert live.recording_sid == recording.provider_sid and live.recording_status == "completed"
    assert recording.status == "completed" and recording.duration == twilio_json.RECORDING_SECONDS
    assert recording.phone_number == active_number and recording.connection == active_number.connection
    assert recording.call == Call.objects.get(provider_sid=recording.call_sid)
    assert recording.transcription_status == "completed" and "sandbox" in recording.transcription_text
    assert recording.public_id.startswith("rec_")


# ---------------------------------------------------------------- list and detail

def test_list_filters_by_number_call_and_date(owner_api, recording, active_number, org):
    other = Recording.objects.create(org=org, provider_sid="RE" + "f" * 32, status="completed")
    Recording.objects.filter(pk=other.pk).update(created_at=timezone.now() - timedelta(days=3))

    everything = owner_api.get("/recordings").json()
    assert [r["id"] for r in everything["data"]] == [recording.public_id, other.public_id]
    assert (everything["total"], everything["limit"], everything["offset"]) == (2, 50, 0)
    first = everything["data"][0]
    assert first["phoneNumber"] == active_number.e164 and first["phoneNumberId"] == active_number.public_id
    assert first["callId"] == recording.call.public_id
    assert first["transcription"] == {"status": "completed", "text": recording.transcription_text}
    assert "mediaUrl" not in first and "providerSid" not in first

    def ids(query: str) -> list[str]:
        response = owner_api.get(f"/recordings?{query}")
        assert response.status_code == 200, response.json()
        return [r["id"] for r in response.json()["data"]]

    assert ids(f"phoneNumberId={active_number.public_id}") == [recording.public_id]
    assert ids(f"callId={recording.call.public_id}") == [recording.public_id]
    yesterday = (timezone.now() - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert ids(f"createdAfter={yesterday}") == [recording.public_id]
    assert ids(f"createdBefore={yesterday}") == [other.public_id]
    assert ids("limit=1&offset=1") == [other.public_id]
    assert ids("phoneNumberId=pn_nothing") == []


def test_bad_filters_are_400(owner_api):
    assert owner_api.get("/recordings?createdAfter=yesterday").status_code == 400
    assert owner_api.get("/recordings?limit=0").status_code == 400
    response = owner_api.get("/recordings?createdAfter=2026-02-01T00:00:00Z&createdBefore=2026-01-01T00:00:00Z")
    assert response.status_code == 400 and response.json()["error"]["field"] == "createdBefore"
    assert owner_api.get("/recordings?nonsense=1").status_code == 400


def test_the_detail_has_the_transcription_and_a_signed_link_for_ten_minutes(owner_api, recording):
    before = int(time.time())
    answer = owner_api.get(f"/recordings/{recording.public_id}").json()
    assert answer["id"] == recording.public_id and answer["transcription"]["status"] == "completed"
    query = parse_qs(urlsplit(answer["mediaUrl"]).query)
    assert urlsplit(answer["mediaUrl"]).path == f"/recordings/{recording.public_id}/media"
    assert before + 600 <= int(query["expires"][0]) <= int(time.time()) + 600
    assert answer["mediaUrlExpiresAt"].startswith(time.strftime("%Y-%m-%dT", time.gmtime(int(query["expires"][0]))))
    assert recording.url not in answer["mediaUrl"]


def test_another_orgs_recording_is_404(recording, charlie, other_org):
    outsider = api_client(charlie, other_org)
    assert outsider.get(f"/recordings/{recording.public_id}").status_code == 404
    assert outsider.delete(f"/recordings/{recording.public_id}").status_code == 404
    assert outsider.get("/recordings").json()["total"] == 0
    assert Recording.objects.filter(pk=recording.pk).exists()


# ---------------------------------------------------------------- the signed link streams the audio

def test_the_link_streams_the_sandbox_audio_without_a_token(owner_api, recording):
    path = media_path(owner_api, recording)
    response = Client().get(path)  # no token, as a browser's <audio> sends none
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "audio/mpeg" and response["Accept-Ranges"] == "bytes"
    expected = media.mp3(twilio_json.RECORDING_SECONDS)
    assert int(response["Content-Length"]) == len(expected)
    assert body(response) == expected


def test_a_range_is_passed_on_so_a_player_can_seek(owner_api, recording):
    path = media_path(owner_api, recording)
    expected = media.mp3(twilio_json.RECORDING_SECONDS)

    response = Client().get(path, HTTP_RANGE="bytes=1000-1999")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 1000-1999/{len(expected)}"
    assert response["Content-Length"] == "1000" and response["Accept-Ranges"] == "bytes"
    assert body(response) == expected[1000:2000]

    tail = Client().get(path, HTTP_RANGE="bytes=-100")
    assert tail.status_code == 206 and body(tail) == expected[-100:]

    past = Client().get(path, HTTP_RANGE=f"bytes={len(expected) + 10}-")
    assert past.status_code == 416 and past["Content-Range"] == f"bytes */{len(expected)}"

    junk = Client().get(path, HTTP_RANGE="pages=1-2")  # not a byte range: the whole file
    assert junk.status_code == 200 and body(junk) == expected


def test_the_audio_comes_from_the_connections_api_never_the_stored_url(owner_api, recording):
    """The callback's RecordingUrl is a reference only: a stored URL pointing anywhere is not fetched."""
    Recording.objects.filter(pk=recording.pk).update(url="http://169.254.169.254/latest/meta-data/")
    response = Client().get(media_path(owner_api, recording))
    assert response.status_code == 200
    assert body(response) == media.mp3(twilio_json.RECORDING_SECONDS)


def test_an_expired_or_altered_link_is_403_and_fetches_nothing(owner_api, recording, monkeypatch):
    fetched = []
    from providers.twilio.client import TwilioProvider

    original = TwilioProvider.recording_media
    monkeypatch.setattr(TwilioProvider, "recording_media",
                        lambda self, *a, **kw: fetched.append(a) or original(self, *a, **kw))
    path = media_path(owner_api, recording)
    query = parse_qs(urlsplit(path).query)
    expires, signature = query["expires"][0], query["signature"][0]
    base = f"/recordings/{recording.public_id}/media"

    tampered = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    later = str(int(expires) + 3600)
    expired = int(time.time()) - 1
    attempts = [
        f"{base}?expires={expires}&signature={tampered}",  # altered signature
        f"{base}?expires={later}&signature={signature}",  # a later expiry with the old signature
        f"{base}?expires={expired}&signature={signing.signature(recording.public_id, expired)}",  # expired
        f"{base}?expires={expires}",  # no signature
        f"/recordings/rec_other/media?expires={expires}&signature={signature}",  # another recording
        f"{base}?expires=soon&signature={signature}",
    ]
    for attempt in attempts:
        response = Client().get(attempt)
        assert response.status_code == 403, attempt
        assert response.json()["error"]["code"] in ("bad_signature", "link_expired")
    assert Client().get(attempts[2]).json()["error"]["code"] == "link_expired"
    assert fetched == []
    assert Client().get(path).status_code == 200 and len(fetched) == 1


def test_the_link_lasts_recording_url_ttl(owner_api, recording, settings):
    settings.RECORDING_URL_TTL = 5
    path = media_path(owner_api, recording)
    expires = int(parse_qs(urlsplit(path).query)["expires"][0])
    assert expires <= int(time.time()) + 5
    assert Client().get(path).status_code == 200
    url, _ = signing.media_url(recording.public_id, now=time.time() - 6)
    stale = urlsplit(url)
    assert Client().get(f"{stale.path}?{stale.query}").status_code == 403


def test_audio_gone_at_the_provider_is_404(owner_api, recording):
    path = media_path(owner_api, recording)
    sandbox_call(recording).__class__.objects.filter(sid=recording.call_sid).update(recording_sid="")
    response = Client().get(path)
    assert response.status_code == 404 and response.json()["error"]["code"] == "media_not_found"


def test_a_long_recording_streams_in_bounded_memory(owner_api, recording, monkeypatch):
    """An hour of audio (57 MB of MP3 frames here) goes through in chunks: nothing holds it whole."""
    monkeypatch.setattr(twilio_json, "RECORDING_SECONDS", 3600)
    path = media_path(owner_api, recording)
    size = media.mp3_source(3600).size
    assert size > 50_000_000
    tracemalloc.start()
    try:
        response = Client().get(path)
        assert int(response["Content-Length"]) == size
        received = 0
        for chunk in response.streaming_content:
            received += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == size
    assert peak < 5_000_000, f"peak {peak} bytes while streaming {size}"


# ---------------------------------------------------------------- delete, at the provider too

def test_delete_removes_the_recording_at_the_provider_then_here(owner_api, recording):
    live = sandbox_call(recording)
    response = owner_api.delete(f"/recordings/{recording.public_id}")
    assert response.status_code == 204
    assert not Recording.objects.filter(pk=recording.pk).exists()
    live.refresh_from_db()
    assert live.recording_sid == ""  # gone at the provider, audio and all
    assert audit_list(target=recording).filter(action="recording.delete").exists()
    assert owner_api.get(f"/recordings/{recording.public_id}").status_code == 404


def test_a_provider_fault_keeps_the_row_and_says_why(owner_api, recording):
    account_sid = recording.connection.credentials["accountSid"]
    sandbox_fault_add(account_sid=account_sid, resource="Recordings", method="DELETE")
    response = owner_api.delete(f"/recordings/{recording.public_id}")
    assert response.status_code == 502 and response.json()["error"]["code"] == "provider_unavailable"
    recording.refresh_from_db()
    assert recording.delete_error and sandbox_call(recording).recording_sid == recording.provider_sid
    assert owner_api.get(f"/recordings/{recording.public_id}").json()["deleteError"] == recording.delete_error
    # Repeated once the provider answers again: deleted at both ends.
    assert owner_api.delete(f"/recordings/{recording.public_id}").status_code == 204
    assert not Recording.objects.filter(pk=recording.pk).exists()


def test_a_recording_already_gone_at_the_provider_is_deleted_here(owner_api, recording):
    SandboxCall.objects.filter(sid=recording.call_sid).update(recording_sid="")
    assert owner_api.delete(f"/recordings/{recording.public_id}").status_code == 204
    assert not Recording.objects.filter(pk=recording.pk).exists()


def test_members_cannot_delete(recording, member, org):
    response = api_client(member, org).delete(f"/recordings/{recording.public_id}")
    assert response.status_code == 403
    assert Recording.objects.filter(pk=recording.pk).exists()


# ---------------------------------------------------------------- retention

def test_retention_is_set_through_the_api(owner_api, member, org):
    assert owner_api.get("/recordings/settings").json() == {"retentionDays": None}
    assert owner_api.put("/recordings/settings", {"retentionDays": 30}, format="json").json() == {"retentionDays": 30}
    org.refresh_from_db()
    assert org.recording_retention_days == 30
    for bad in (0, -1, 100_000, "soon"):
        assert owner_api.put("/recordings/settings", {"retentionDays": bad}, format="json").status_code == 400
    assert owner_api.put("/recordings/settings", {}, format="json").status_code == 400
    assert api_client(member, org).put("/recordings/settings", {"retentionDays": 1}, format="json").status_code == 403
    org.refresh_from_db()
    assert org.recording_retention_days == 30
    assert owner_api.put("/recordings/settings", {"retentionDays": None}, format="json").json() == {
        "retentionDays": None}


def test_beat_deletes_recordings_past_the_retention_at_the_provider(owner_api, recording, active_number, org,
                                                                    django_capture_on_commit_callbacks):
    newer = record_a_call(active_number, django_capture_on_commit_callbacks)
    now = timezone.now()
    Recording.objects.filter(pk=recording.pk).update(created_at=now - timedelta(days=31))
    Recording.objects.filter(pk=newer.pk).update(created_at=now - timedelta(days=29))
    old_call = sandbox_call(recording)

    assert delete_expired_recordings.delay().get() == {"deleted": 0, "failed": 0}  # no retention set: kept
    owner_api.put("/recordings/settings", {"retentionDays": 30}, format="json")

    assert recordings_expire(now=now) == {"deleted": 1, "failed": 0}
    assert list(Recording.objects.values_list("pk", flat=True)) == [newer.pk]
    old_call.refresh_from_db()
    assert old_call.recording_sid == ""  # deleted at the provider too
    assert sandbox_call(newer).recording_sid == newer.provider_sid
    # Two days later the other one is due.
    assert recordings_expire(now=now + timedelta(days=2)) == {"deleted": 1, "failed": 0}
    assert not Recording.objects.exists()


def test_retention_keeps_what_the_provider_would_not_delete_for_the_next_run(recording, org):
    org.recording_retention_days = 1
    org.save()
    Recording.objects.filter(pk=recording.pk).update(created_at=timezone.now() - timedelta(days=2))
    sandbox_fault_add(account_sid=recording.connection.credentials["accountSid"], resource="Recordings",
                      method="DELETE")
    assert recordings_expire() == {"deleted": 0, "failed": 1}
    recording.refresh_from_db()
    assert recording.delete_error
    assert recordings_expire() == {"deleted": 1, "failed": 0}
    assert not Recording.objects.exists()


def test_the_beat_schedule_runs_retention(settings):
    from config.celery import app

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "phones.recordings.tasks.delete_expired_recordings" in tasks
    assert "phones.recordings.tasks.delete_expired_recordings" in app.tasks


def test_under_asgi_the_audio_is_pulled_chunk_by_chunk(owner_api, recording, monkeypatch):
    """Under ASGI (uvicorn) the view hands Django an async iterator: a synchronous one would be read
    whole before the first byte is sent."""
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    monkeypatch.setattr(twilio_json, "RECORDING_SECONDS", 30)
    path = media_path(owner_api, recording)
    expected = media.mp3(30)

    async def fetch():
        response = await AsyncClient().get(path, headers={"Range": "bytes=10-200009"})
        assert response.is_async
        return response, [chunk async for chunk in response.streaming_content]

    response, chunks = async_to_sync(fetch)()
    assert response.status_code == 206 and response["Content-Range"] == f"bytes 10-200009/{len(expected)}"
    assert len(chunks) > 1 and b"".join(chunks) == expected[10:200010]
