"""Plivo XML from the TwiML our voice, IVR and SMS builders produce.

Plivo cannot read TwiML, so the answer is translated element by element, complete for every
element and attribute phones.calls.voice, phones.calls.ivr and phones.calls.twiml emit:

  Say → Speak            Gather → GetDigits            Dial → Dial (Client → User, Number)
  Play, Hangup, Redirect (same names)                  Record → Record
  Enqueue → Conference   (Plivo has no call queue: callers wait in a conference named after it)
  Start/Recording → Record recordSession (the whole call, in the background)
  Start/Transcription → Record recordSession with transcription (Plivo transcribes a recording
      once it ends; there is no live transcription in Plivo XML)
  Connect/Stream → Stream (bidirectional; the Parameters as extraHeaders)
  Dial record=… → a Record startOnDialAnswer before the Dial

Our own URLs in it are already on the Plivo webhook family (twiml.link builds them for the
number's connection), so Plivo's next request comes back to a view that checks Plivo's signature.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

# Plivo rings an app user (our softphone identity) at this SIP domain.
PLIVO_SIP_DOMAIN = "phone.plivo.com"


def _voice(twilio_voice: str | None) -> str | None:
    """Plivo speaks as WOMAN or MAN, or an Amazon Polly voice named as Twilio names it."""
    if not twilio_voice:
        return None
    if twilio_voice.startswith("Polly."):
        return twilio_voice
    return "MAN" if twilio_voice == "man" else "WOMAN"


def _element(parent: ET.Element, tag: str, text: str | None = None, **attributes: object) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: _attribute(v) for k, v in attributes.items() if v not in (None, "")})
    if text:
        element.text = text
    return element


def _attribute(value: object) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _prompt(source: ET.Element, target: ET.Element) -> None:
    if source.tag == "Say":
        _element(target, "Speak", source.text or "", voice=_voice(source.get("voice")),
                 language=source.get("language"))
    elif source.tag == "Play":
        _element(target, "Play", source.text or "")
    else:
        raise ValueError(f"no Plivo XML for <{source.tag}> here")


def _dial(source: ET.Element, target: ET.Element) -> None:
    if source.get("record"):
        # Plivo records a bridged call with a Record that waits for the Dial's answer.
        _element(target, "Record", startOnDialAnswer=True, redirect=False, recordSession=False, maxLength=14400,
                 fileFormat="mp3", callbackUrl=source.get("recordingStatusCallback"), callbackMethod="POST")
    dial = _element(target, "Dial", action=source.get("action"), method=source.get("method"),
                    timeout=source.get("timeout"), callerId=source.get("callerId"), redirect=True)
    for noun in source:
        if noun.tag == "Number":
            _element(dial, "Number", noun.text or "")
        elif noun.tag == "Client":
            _element(dial, "User", f"sip:{noun.text}@{PLIVO_SIP_DOMAIN}")
        else:
            raise ValueError(f"no Plivo XML for <Dial><{noun.tag}>")


def _start(source: ET.Element, target: ET.Element) -> None:
    for child in source:
        if child.tag == "Recording":
            _element(target, "Record", recordSession=True, redirect=False, maxLength=14400, fileFormat="mp3",
                     callbackUrl=child.get("recordingStatusCallback"), callbackMethod="POST")
        elif child.tag == "Transcription":
            _element(target, "Record", recordSession=True, redirect=False, maxLength=14400, fileFormat="mp3",
                     transcriptionType="auto", transcriptionUrl=child.get("statusCallbackUrl"),
                     transcriptionMethod="POST")
        else:
            raise ValueError(f"no Plivo XML for <Start><{child.tag}>")


def _connect(source: ET.Element, target: ET.Element) -> None:
    for child in source:
        if child.tag != "Stream":
            raise ValueError(f"no Plivo XML for <Connect><{child.tag}>")
        # extraHeaders is "name=value,name=value": the separators cannot appear inside.
        headers = ",".join(f"{p.get('name', '')}={p.get('value', '')}".replace(",", " ")
                           for p in child if p.tag == "Parameter")
        _element(target, "Stream", child.get("url"), bidirectional=True, keepCallAlive=True,
                 contentType="audio/x-mulaw;rate=8000", extraHeaders=headers)


def _verb(source: ET.Element, target: ET.Element) -> None:
    tag = source.tag
    if tag in ("Say", "Play"):
        _prompt(source, target)
    elif tag == "Hangup":
        _element(target, "Hangup")
    elif tag == "Redirect":
        _element(target, "Redirect", source.text, method=source.get("method"))
    elif tag == "Gather":
        # Like <Gather>, a GetDigits that hears nothing falls through to the next element.
        gather = _element(target, "GetDigits", action=source.get("action"), method=source.get("method"),
                          numDigits=source.get("numDigits"), timeout=source.get("timeout"), retries=1, redirect=True)
        for prompt in source:
            _prompt(prompt, gather)
    elif tag == "Dial":
        _dial(source, target)
    elif tag == "Enqueue":
        _element(target, "Conference", source.text or "", startConferenceOnEnter=False, endConferenceOnExit=False)
    elif tag == "Record":
        transcribe = source.get("transcribe") == "true"
        _element(target, "Record", action=source.get("action"), method=source.get("method"),
                 maxLength=source.get("maxLength"), playBeep=source.get("playBeep"), fileFormat="mp3",
                 callbackUrl=source.get("recordingStatusCallback"), callbackMethod="POST",
                 transcriptionType="auto" if transcribe else None,
                 transcriptionUrl=source.get("transcribeCallback") if transcribe else None,
                 transcriptionMethod="POST" if transcribe else None)
    elif tag == "Start":
        _start(source, target)
    elif tag == "Connect":
        _connect(source, target)
    else:
        # A verb our builders started emitting without a translation: a bug, loudly.
        raise ValueError(f"no Plivo XML for <{tag}>")


def voice_xml(twiml: str) -> str:
    """Plivo XML for a TwiML <Response> of voice verbs."""
    response = ET.Element("Response")
    for verb in ET.fromstring(twiml):
        _verb(verb, response)
    return ET.tostring(response, encoding="unicode", xml_declaration=True)


def message_xml(*, src: str, dst: str, replies: list[str]) -> str:
    """Plivo XML replying to an inbound text: one <Message> per reply, from our number."""
    response = ET.Element("Response")
    for text in replies:
        _element(response, "Message", text, src=src.lstrip("+"), dst=dst.lstrip("+"), type="sms")
    return ET.tostring(response, encoding="unicode", xml_declaration=True)
