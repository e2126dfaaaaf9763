"""Staff hear recordings in the admin: a player on the signed link (never the provider's URL, which
needs the account's credentials) and the transcription beside it."""
from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from django.test import Client

from phones.models import Recording
from sandbox import media, twilio_json
from tests.phones.test_recordings import public_base_url, record_a_call  # noqa: F401


def test_the_recording_page_plays_the_audio_and_shows_the_transcription(staff_client, active_number,
                                                                        django_capture_on_commit_callbacks):
    recording = record_a_call(active_number, django_capture_on_commit_callbacks)

    listing = staff_client.get("/admin/phones/recording/")
    assert listing.status_code == 200
    assert listing.content.decode().count('class="recording-player"') == 1

    page = staff_client.get(f"/admin/phones/recording/{recording.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    players = re.findall(r'<audio class="recording-player" controls preload="none" src="([^"]+)"', text)
    assert len(players) == 1
    assert '<blockquote class="transcription"' in text and html.escape(recording.transcription_text) in text
    src = urlsplit(html.unescape(players[0]))
    assert src.path == f"/recordings/{recording.public_id}/media" and "signature=" in src.query
    assert recording.url not in text

    # The player's link streams the audio to a browser with no session or token.
    audio = Client().get(f"{src.path}?{src.query}")
    assert audio.status_code == 200
    assert b"".join(audio.streaming_content) == media.mp3(twilio_json.RECORDING_SECONDS)


def test_a_recording_in_progress_has_no_player_yet(staff_client, org):
    recording = Recording.objects.create(org=org, provider_sid="RE" + "e" * 32, status="in-progress")
    text = staff_client.get(f"/admin/phones/recording/{recording.pk}/change/").content.decode()
    assert "<audio" not in text and "in-progress" in text
