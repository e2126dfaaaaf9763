"""The sandbox plays the caller: an inbound SMS or call to one of its numbers, as Twilio would send it.

The emulated account signs each webhook with its auth token over the URL the number is configured
with (its SmsUrl / VoiceUrl, which we set from PUBLIC_BASE_URL), and hands it to our own webhook view
in-process (resolved like a request: no socket, so a single-threaded dev server cannot deadlock).
A call follows the TwiML it gets back: <Redirect>s, and <Gather>s with the digits given; a <Dial>
is followed with `dial_status` (e.g. no-answer) when one is given. It stops at what needs a real
phone (a bridged call, a recording, a media stream) or when the digits run out.

Then, as Twilio does once the exchange is over, the account posts the status callbacks, signed the
same way: the call `completed`, with a CallDuration estimated from what was said and pressed, to
the number's StatusCallback; each text the platform sent through the REST API meanwhile (a rule's
forward, a flow's send-sms) `sent` then `delivered`, to that message's StatusCallback. The replies a
webhook answered with TwiML <Message> are recorded as delivered in the account, and their callback
posted only where the <Message> asks for one (its `action` or `statusCallback`), as Twilio does.

Also a staff page (`/sandbox/simulate`) with a form that does the same and shows the exchanges.
"""
from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django import forms
from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.test import RequestFactory
from django.urls import Resolver404, resolve
from twilio.request_validator import RequestValidator

from phones.provider_webhooks import webhook_url
from sandbox import recordings as sandbox_recordings
from sandbox.models import SandboxCall, SandboxNumber
from sandbox.realtime_stream import StreamUnavailable, play_stream, stream_of
from sandbox.services import (
    sandbox_call_complete,
    sandbox_call_recording_start,
    sandbox_message_deliver,
    sandbox_reply_record,
)
from sandbox.trunking import trunk_taking_calls

MAX_STEPS = 20
API_VERSION = "2010-04-01"
# How long the simulated call is said to last: speech at about 150 words a minute, a second to
# answer, two seconds for each key pressed.
WORDS_PER_SECOND = 2.5
SECONDS_PER_KEY = 2


class SimulationError(Exception):
    pass


@dataclass
class Exchange:
    url: str
    params: dict[str, str]
    status: int
    body: str


@dataclass
class Simulation:
    number: SandboxNumber
    exchanges: list[Exchange] = field(default_factory=list)
    ended: str = ""
    pending_digits: list[str] = field(default_factory=list)  # a call's keys not pressed when it ended
    # What the call's TwiML recorded: callbacks posted when it ends (sandbox.recordings).
    recordings: list[sandbox_recordings.PendingRecording] = field(default_factory=list)
    # An AI call: the utterances the caller says on a media stream, and what each stream did.
    say: list[str] = field(default_factory=list)
    pace: float = 1.0
    streams: list = field(default_factory=list)  # sandbox.realtime_stream.StreamOutcome
    call_sid: str = ""


def _number(to: str) -> SandboxNumber:
    number = SandboxNumber.objects.select_related("account").filter(phone_number=to).first()
    if number is None:
        raise SimulationError(f"No sandbox account owns {to}: buy it with a sandbox connection first")
    return number


def _post(simulation: Simulation, url: str, params: dict[str, str]) -> Exchange:
    account = simulation.number.account
    params = {"AccountSid": account.sid, **params}
    signature = RequestValidator(account.auth_token).compute_signature(url, params)
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    request = RequestFactory().post(path, params, HTTP_X_TWILIO_SIGNATURE=signature,
                                    secure=parts.scheme == "https")
    try:
        match = resolve(parts.path)
    except Resolver404:
        raise SimulationError(f"{url} is not one of this platform's webhook URLs") from None
    response = match.func(request, *match.args, **match.kwargs)
    exchange = Exchange(url=url, params=params, status=response.status_code,
                        body=response.content.decode("utf-8", "replace"))
    simulation.exchanges.append(exchange)
    return exchange


def _last_message_pk(number: SandboxNumber) -> int:
    return number.account.messages.aggregate(last=Max("pk"))["last"] or 0


def _callback(simulation: Simulation, url: str, params: dict[str, str]) -> None:
    """A status callback: posted when `url` is one of ours (a callback elsewhere is not followed)."""
    try:
        resolve(urlsplit(url).path)
    except Resolver404:
        return
    _post(simulation, url, params)


def _message_status(simulation: Simulation, url: str, message_sid: str, status: str, *, to: str, from_: str
                    ) -> None:
    _callback(simulation, url, {"MessageSid": message_sid, "SmsSid": message_sid, "MessageStatus": status,
                            "SmsStatus": status, "To": to, "From": from_, "ApiVersion": API_VERSION})


def _deliver_sent_texts(simulation: Simulation, after_pk: int) -> None:
    """The texts the platform sent through the REST API during the exchange reach the handset."""
    sent = simulation.number.account.messages.filter(pk__gt=after_pk, status__in=("accepted", "queued"),
                                                     direction="outbound-api").order_by("pk")
    for message in sent:
        sandbox_message_deliver(message=message)
        if message.status_callback:
            for status in ("sent", "delivered"):
                _message_status(simulation, message.status_callback, message.sid, status, to=message.to,
                                from_=message.from_number)


def _send_replies(simulation: Simulation, exchange: Exchange, *, to: str, from_: str) -> None:
    """What Twilio does with the <Message>s a webhook answered: sends each (here: delivered at once)."""
    if exchange.status != 200 or not exchange.body.startswith("<?xml"):
        return
    for verb in ET.fromstring(exchange.body):
        if verb.tag != "Message":
            continue
        callback = verb.get("action") or verb.get("statusCallback") or ""
        reply = sandbox_reply_record(account=simulation.number.account, to=verb.get("to") or to,
                                     from_=verb.get("from") or from_, body=(verb.text or ""),
                                     status_callback=callback)
        if callback:
            _message_status(simulation, callback, reply.sid, "delivered", to=reply.to, from_=reply.from_number)


def simulate_sms(*, to: str, from_: str, body: str) -> Simulation:
    simulation = Simulation(number=_number(to))
    before = _last_message_pk(simulation.number)
    sid = "SM" + secrets.token_hex(16)
    exchange = _post(simulation, simulation.number.sms_url or webhook_url("sms"), {
        "MessageSid": sid, "SmsSid": sid, "From": from_, "To": to, "Body": body, "NumSegments": "1",
        "NumMedia": "0", "SmsStatus": "received", "ApiVersion": API_VERSION})
    # The inbound text is `received` when its webhook is posted: Twilio sends no status callback for it.
    _send_replies(simulation, exchange, to=from_, from_=to)
    _deliver_sent_texts(simulation, before)
    return simulation


def simulate_call(*, to: str, from_: str, digits: list[str], dial_status: str = "", say: list[str] | None = None,
                  pace: float = 1.0) -> Simulation:
    simulation = Simulation(number=_number(to), say=list(say or []), pace=pace)
    trunk = trunk_taking_calls(simulation.number)
    if trunk:  # Twilio sends the call to the trunk, never to the number's voice URL
        simulation.ended = trunk
        return simulation
    before = _last_message_pk(simulation.number)
    call = {"CallSid": "CA" + secrets.token_hex(16), "From": from_, "To": to, "Direction": "inbound",
            "ApiVersion": API_VERSION}
    simulation.call_sid = call["CallSid"]
    url = simulation.number.voice_url or webhook_url("voice")
    # The emulator knows the call, as Twilio does, so the API can act on it (pause a recording…).
    live = SandboxCall.objects.create(sid=call["CallSid"], account=simulation.number.account, to=to,
                                      from_number=from_, url=url, direction="inbound", status="in-progress")
    simulation.ended = _walk(simulation, live, call, url, list(digits), dial_status)
    # The caller has hung up: the call's final status, to the number's StatusCallback.
    sandbox_call_complete(call=live)
    sandbox_recordings.hang_up(simulation.recordings, live, lambda url, params: _callback(simulation, url, params))
    pressed = len(digits) - len(simulation.pending_digits)
    _callback(simulation, simulation.number.status_callback or webhook_url("status"),
              {**call, "CallStatus": "completed", "CallDuration": str(call_duration(simulation.exchanges, pressed))})
    _deliver_sent_texts(simulation, before)
    return simulation


def _walk(simulation: Simulation, live: SandboxCall, call: dict[str, str], url: str, pending: list[str],
          dial_status: str) -> str:
    """Follow the call's TwiML from `url`; why the walk ended."""
    extra = {"CallStatus": "ringing"}
    simulation.pending_digits = pending
    for _ in range(MAX_STEPS):
        exchange = _post(simulation, url, {**call, **extra})
        if exchange.status != 200:
            return f"HTTP {exchange.status}"
        root = ET.fromstring(exchange.body)
        sandbox_recordings.note_twiml(simulation.recordings, live, root,
                                      lambda call: sandbox_call_recording_start(call=call))
        stream = stream_of(root)
        if stream is not None:  # <Connect><Stream>: the caller talks to the media stream
            try:
                outcome = play_stream(live, *stream, say=simulation.say, digits=pending, pace=simulation.pace)
            except StreamUnavailable as exc:
                raise SimulationError(str(exc)) from exc
            simulation.streams.append(outcome)
            simulation.say, pending[:] = [], []
            if outcome.hung_up:
                return "hung up (by the agent)"
            if outcome.redirected_twiml:
                root = ET.fromstring(outcome.redirected_twiml)
                simulation.exchanges.append(Exchange(url="(the call's new TwiML, set through the REST API)",
                                                     params={}, status=200, body=outcome.redirected_twiml))
            else:
                root = _after_connect(root)
        next_step = _next(root, pending, dial_status)
        if isinstance(next_step, str):
            return next_step
        url, extra = next_step
    return f"stopped after {MAX_STEPS} requests"


def _after_connect(root: ET.Element) -> ET.Element:
    """The TwiML after a <Connect> whose stream ended: Twilio goes on with the next verb."""
    rest = ET.Element("Response")
    seen = False
    for verb in root:
        if seen:
            rest.append(verb)
        seen = seen or verb.tag == "Connect"
    return rest


def call_duration(exchanges: list[Exchange], keys_pressed: int) -> int:
    """Seconds the simulated call lasted: what the TwiML said, read at WORDS_PER_SECOND, a second to
    answer, SECONDS_PER_KEY for each key pressed."""
    words = 0
    for exchange in exchanges:
        if exchange.status == 200 and exchange.body.startswith("<?xml"):
            words += sum(len((say.text or "").split()) for say in ET.fromstring(exchange.body).iter("Say"))
    return 1 + round(words / WORDS_PER_SECOND) + SECONDS_PER_KEY * keys_pressed


def _next(root: ET.Element, digits: list[str], dial_status: str) -> tuple[str, dict[str, str]] | str:
    """Where the caller's side goes after this TwiML: (url, params), or why the walk ends."""
    in_progress = {"CallStatus": "in-progress"}
    for verb in root:
        if verb.tag == "Gather":
            if not digits:
                return "the caller hangs up at a menu (no digits left)"
            return verb.get("action", ""), {**in_progress, "Digits": digits.pop(0)}
        if verb.tag == "Redirect":
            return (verb.text or "").strip(), in_progress
        if verb.tag == "Dial":
            targets = ", ".join(f"{child.tag} {(child.text or '').strip()}" for child in verb)
            if dial_status and verb.get("action"):
                return verb.get("action", ""), {**in_progress, "DialCallStatus": dial_status}
            return f"dials {targets}"
        if verb.tag in ("Hangup", "Reject"):
            return "hung up"
        if verb.tag in ("Record", "Enqueue", "Connect"):
            return f"{verb.tag} (needs a real call to go on)"
    return "end of TwiML: the call ends"


class SimulateForm(forms.Form):
    kind = forms.ChoiceField(choices=[("sms", "SMS"), ("call", "Call")])
    to = forms.ChoiceField(label="To (a sandbox number)")
    from_ = forms.CharField(label="From", initial="+14155550111")
    body = forms.CharField(required=False, initial="Hello", help_text="SMS only.")
    digits = forms.CharField(required=False, help_text="Call only: keys pressed, comma separated, e.g. 1,2")
    say = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                          help_text="Call answered by an AI agent: what the caller says, a line a turn "
                                    "(e.g. \"I want sales\"). The server must serve WebSockets (make run).")
    dial_status = forms.ChoiceField(required=False, choices=[("", "stop at a Dial"), ("no-answer", "no-answer"),
                                                             ("busy", "busy"), ("completed", "answered")])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        numbers = SandboxNumber.objects.order_by("phone_number").values_list("phone_number", flat=True)
        self.fields["to"].choices = [(n, n) for n in numbers]


def run(kind: str, *, to: str, from_: str, body: str = "", digits: list[str] | None = None,
        dial_status: str = "", say: list[str] | None = None, pace: float = 1.0) -> Simulation:
    if kind == "sms":
        return simulate_sms(to=to, from_=from_, body=body)
    return simulate_call(to=to, from_=from_, digits=digits or [], dial_status=dial_status, say=say, pace=pace)


@staff_member_required
def simulate_view(request: HttpRequest) -> HttpResponse:
    form = SimulateForm(request.POST or None)
    simulation, error = None, ""
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            simulation = run(d["kind"], to=d["to"], from_=d["from_"], body=d["body"],
                             digits=[x.strip() for x in d["digits"].split(",") if x.strip()],
                             dial_status=d["dial_status"],
                             say=[line.strip() for line in d["say"].splitlines() if line.strip()])
        except SimulationError as exc:
            error = str(exc)
    return render(request, "sandbox/simulate.html", {
        **admin.site.each_context(request),  # the admin's header, user links and sidebar
        "form": form, "simulation": simulation, "error": error, "title": "Simulate an inbound SMS or call",
        "transcript": ai_transcript(simulation)})


def ai_transcript(simulation: Simulation | None) -> list[dict]:
    """What the gateway stored of an AI call the simulation made (empty for any other)."""
    if simulation is None or not simulation.streams:
        return []
    from phones.models import Call

    found = Call.objects.filter(provider_sid=simulation.call_sid).values_list("ai_transcript", flat=True).first()
    return found if isinstance(found, list) else []
