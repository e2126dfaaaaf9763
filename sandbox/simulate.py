"""The sandbox plays the caller: an inbound SMS or call to one of its numbers, as Twilio would send it.

The emulated account signs each webhook with its auth token over the URL the number is configured
with (its SmsUrl / VoiceUrl, which we set from PUBLIC_BASE_URL), and hands it to our own webhook view
in-process (resolved like a request: no socket, so a single-threaded dev server cannot deadlock).
A call follows the TwiML it gets back: <Redirect>s, and <Gather>s with the digits given; a <Dial>
is followed with `dial_status` (e.g. no-answer) when one is given. It stops at what needs a real
phone (a bridged call, a recording, a media stream) or when the digits run out.

Also a staff page (`/sandbox/simulate`) with a form that does the same and shows the exchanges.
"""
from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django import forms
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.test import RequestFactory
from django.urls import Resolver404, resolve
from twilio.request_validator import RequestValidator

from phones.provider_webhooks import webhook_url
from sandbox.models import SandboxCall, SandboxNumber
from sandbox.services import sandbox_call_recording_start

MAX_STEPS = 20


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


def simulate_sms(*, to: str, from_: str, body: str) -> Simulation:
    simulation = Simulation(number=_number(to))
    sid = "SM" + secrets.token_hex(16)
    _post(simulation, simulation.number.sms_url or webhook_url("sms"), {
        "MessageSid": sid, "SmsSid": sid, "From": from_, "To": to, "Body": body, "NumSegments": "1",
        "NumMedia": "0", "SmsStatus": "received", "ApiVersion": "2010-04-01"})
    return simulation


def simulate_call(*, to: str, from_: str, digits: list[str], dial_status: str = "") -> Simulation:
    simulation = Simulation(number=_number(to))
    call = {"CallSid": "CA" + secrets.token_hex(16), "From": from_, "To": to, "Direction": "inbound",
            "ApiVersion": "2010-04-01"}
    pending = list(digits)
    url, extra = simulation.number.voice_url or webhook_url("voice"), {"CallStatus": "ringing"}
    # The emulator knows the call, as Twilio does, so the API can act on it (pause a recording…).
    live = SandboxCall.objects.create(sid=call["CallSid"], account=simulation.number.account, to=to,
                                      from_number=from_, url=url, direction="inbound", status="in-progress")
    for _ in range(MAX_STEPS):
        exchange = _post(simulation, url, {**call, **extra})
        if exchange.status != 200:
            simulation.ended = f"HTTP {exchange.status}"
            return simulation
        root = ET.fromstring(exchange.body)
        if root.find("Start/Recording") is not None:
            sandbox_call_recording_start(call=live)
        next_step = _next(root, pending, dial_status)
        if isinstance(next_step, str):
            simulation.ended = next_step
            return simulation
        url, extra = next_step
    simulation.ended = f"stopped after {MAX_STEPS} requests"
    return simulation


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
    dial_status = forms.ChoiceField(required=False, choices=[("", "stop at a Dial"), ("no-answer", "no-answer"),
                                                             ("busy", "busy"), ("completed", "answered")])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        numbers = SandboxNumber.objects.order_by("phone_number").values_list("phone_number", flat=True)
        self.fields["to"].choices = [(n, n) for n in numbers]


def run(kind: str, *, to: str, from_: str, body: str = "", digits: list[str] | None = None,
        dial_status: str = "") -> Simulation:
    if kind == "sms":
        return simulate_sms(to=to, from_=from_, body=body)
    return simulate_call(to=to, from_=from_, digits=digits or [], dial_status=dial_status)


@staff_member_required
def simulate_view(request: HttpRequest) -> HttpResponse:
    form = SimulateForm(request.POST or None)
    simulation, error = None, ""
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            simulation = run(d["kind"], to=d["to"], from_=d["from_"], body=d["body"],
                             digits=[x.strip() for x in d["digits"].split(",") if x.strip()],
                             dial_status=d["dial_status"])
        except SimulationError as exc:
            error = str(exc)
    return render(request, "sandbox/simulate.html", {"form": form, "simulation": simulation, "error": error,
                                                     "title": "Simulate an inbound SMS or call"})
