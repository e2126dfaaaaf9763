"""Each provider's media-stream messages, as its documentation shows them, read into our values,
and ours written in its words."""
from __future__ import annotations

import pytest

from providers.media import (
    StreamConnected,
    StreamDtmf,
    StreamIgnored,
    StreamMark,
    StreamMedia,
    StreamProtocolError,
    StreamStart,
    StreamStop,
)
from providers.plivo.media import DIALECT as PLIVO
from providers.telnyx.media import DIALECT as TELNYX
from providers.twilio.media import DIALECT as TWILIO

# Twilio's documented sequence (Media Streams: WebSocket messages), a bidirectional <Connect><Stream>.
TWILIO_SEQUENCE = [
    {"event": "connected", "protocol": "Call", "version": "1.0.0"},
    {"event": "start", "sequenceNumber": "1", "start": {
        "accountSid": "AC" + "a" * 32, "streamSid": "MZ" + "b" * 32, "callSid": "CA" + "c" * 32,
        "tracks": ["inbound"], "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        "customParameters": {"token": "tok", "agentId": "agt_1"}}, "streamSid": "MZ" + "b" * 32},
    {"event": "media", "sequenceNumber": "3", "media": {"track": "inbound", "chunk": "1", "timestamp": "5",
                                                        "payload": "/v7+/g=="}, "streamSid": "MZ" + "b" * 32},
    {"event": "mark", "sequenceNumber": "4", "streamSid": "MZ" + "b" * 32, "mark": {"name": "m1"}},
    {"event": "dtmf", "streamSid": "MZ" + "b" * 32, "sequenceNumber": "5",
     "dtmf": {"track": "inbound_track", "digit": "1"}},
    {"event": "stop", "sequenceNumber": "6", "streamSid": "MZ" + "b" * 32,
     "stop": {"accountSid": "AC" + "a" * 32, "callSid": "CA" + "c" * 32}},
]


def test_twilio_sequence():
    events = [TWILIO.parse(m) for m in TWILIO_SEQUENCE]
    assert isinstance(events[0], StreamConnected)
    assert events[1] == StreamStart(stream_id="MZ" + "b" * 32, call_id="CA" + "c" * 32, account_id="AC" + "a" * 32,
                                    parameters={"token": "tok", "agentId": "agt_1"})
    assert events[2] == StreamMedia(payload="/v7+/g==", timestamp_ms=5)
    assert events[3:] == [StreamMark("m1"), StreamDtmf("1"), StreamStop()]


def test_twilio_out():
    assert TWILIO.media("MZ1", "AAA=") == {"event": "media", "streamSid": "MZ1", "media": {"payload": "AAA="}}
    assert TWILIO.mark("MZ1", "m7") == {"event": "mark", "streamSid": "MZ1", "mark": {"name": "m7"}}
    assert TWILIO.clear("MZ1") == {"event": "clear", "streamSid": "MZ1"}


@pytest.mark.parametrize("message", [{"event": "media"}, {"event": "media", "media": {"payload": 5}},
                                     {"event": "start", "start": "x"}])
def test_malformed_messages_are_protocol_errors(message):
    with pytest.raises(StreamProtocolError):
        TWILIO.parse(message)


def test_unknown_events_and_other_tracks_are_ignored():
    assert isinstance(TWILIO.parse({"event": "what"}), StreamIgnored)
    assert isinstance(TWILIO.parse({"event": "media", "media": {"track": "outbound", "payload": "AA=="}}),
                      StreamIgnored)


def test_telnyx_sequence():
    start = {"event": "start", "sequence_number": "1", "stream_id": "st-1", "start": {
        "user_id": "u-1", "call_control_id": "v3:abc", "call_session_id": "s-1", "client_state": "",
        "media_format": {"encoding": "PCMU", "sample_rate": 8000, "channels": 1},
        "custom_parameters": {"token": "tok"}}}
    assert TELNYX.recognises(start) and not PLIVO.recognises(start)
    assert TELNYX.parse(start) == StreamStart(stream_id="st-1", call_id="v3:abc", account_id="u-1",
                                              parameters={"token": "tok"})
    assert TELNYX.parse({"event": "media", "sequence_number": "4", "stream_id": "st-1", "media": {
        "track": "inbound", "chunk": "2", "timestamp": "40", "payload": "AAAA"}}) == StreamMedia("AAAA", 40)
    assert TELNYX.parse({"event": "mark", "mark": {"name": "m2"}}) == StreamMark("m2")
    assert TELNYX.parse({"event": "stop", "stop": {}}) == StreamStop()
    assert TELNYX.media("st-1", "AA==") == {"event": "media", "media": {"payload": "AA=="}}
    assert TELNYX.clear("st-1") == {"event": "clear"}


def test_plivo_sequence():
    start = {"event": "start", "sequenceNumber": 0, "start": {
        "callId": "c-1", "streamId": "s-1", "accountId": "MA1", "tracks": ["inbound"],
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000}}, "extra_headers": "token=tok,agentId=agt_1"}
    assert PLIVO.recognises(start) and not TELNYX.recognises(start)
    assert PLIVO.parse(start) == StreamStart(stream_id="s-1", call_id="c-1", account_id="MA1",
                                             parameters={"token": "tok", "agentId": "agt_1"})
    assert PLIVO.parse({"event": "media", "media": {"track": "inbound", "timestamp": "20", "chunk": "1",
                                                    "payload": "AAAA"}, "streamId": "s-1"}) == StreamMedia("AAAA", 20)
    assert PLIVO.parse({"event": "playedStream", "streamId": "s-1", "name": "m3"}) == StreamMark("m3")
    assert PLIVO.parse({"event": "dtmf", "dtmf": {"digit": "5"}}) == StreamDtmf("5")
    assert PLIVO.media("s-1", "AA==") == {"event": "playAudio", "media": {
        "contentType": "audio/x-mulaw", "sampleRate": 8000, "payload": "AA=="}}
    assert PLIVO.mark("s-1", "m3") == {"event": "checkpoint", "streamId": "s-1", "name": "m3"}
    assert PLIVO.clear("s-1") == {"event": "clearAudio", "streamId": "s-1"}


def test_plivo_documented_start_with_extra_headers_separated_by_semicolons():
    # Plivo's Audio Streaming reference, verbatim: extra_headers "userId=12345;sessionId=abc-xyz".
    start = {"event": "start", "sequenceNumber": 1, "start": {
        "callId": "12345678-1234-1234-1234-123456789abc", "streamId": "87654321-4321-4321-4321-cba987654321",
        "accountId": "MAXXXXXXXXXXXXXXXXXX", "tracks": ["inbound"],
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000}},
        "extra_headers": "userId=12345;sessionId=abc-xyz"}
    assert PLIVO.recognises(start)
    assert PLIVO.parse(start) == StreamStart(
        stream_id="87654321-4321-4321-4321-cba987654321", call_id="12345678-1234-1234-1234-123456789abc",
        account_id="MAXXXXXXXXXXXXXXXXXX", parameters={"userId": "12345", "sessionId": "abc-xyz"})
