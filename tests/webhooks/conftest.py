"""Webhook fixtures: Alice's org on a sandbox Twilio account, with a number, and a way to post
requests signed exactly as Twilio signs them (RequestValidator over the public URL)."""
from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from django.test import Client
from twilio.request_validator import RequestValidator

from orgs.services import connection_create
from phones.models import PhoneNumber, PhoneRouting, SoftphonePresence

PUBLIC = "https://app.example.com"
NUMBER = "+14155550100"
CALLER = "+14155550111"


@pytest.fixture(autouse=True)
def public_base_url(settings):
    settings.PUBLIC_BASE_URL = PUBLIC


@pytest.fixture
def sandbox(org):
    return connection_create(org=org, type_="sandbox-provider", name="Sandbox", credentials={})


@pytest.fixture
def number(org, sandbox) -> PhoneNumber:
    number = PhoneNumber.objects.create(org=org, connection=sandbox, e164=NUMBER, country="US",
                                        status=PhoneNumber.Status.ACTIVE, friendly_name="Main line")
    PhoneRouting.objects.create(phone_number=number)
    return number


# A <Client> in a <Dial>: its leg's status callbacks keep the member's presence.
CLIENT = {"statusCallback": f"{PUBLIC}/connect/webhook/twilio/status", "statusCallbackEvent": "answered completed",
          "statusCallbackMethod": "POST"}


def softphones_on(org, *users, status: str = "available") -> None:
    """The users' softphone presence (routing rings only the available and away)."""
    for user in users:
        SoftphonePresence.objects.update_or_create(org=org, user=user, defaults={"status": status})


@pytest.fixture
def other_connection(other_org):
    return connection_create(org=other_org, type_="sandbox-provider", name="Charlie sandbox", credentials={})


class Twilio:
    """Plays Twilio: posts webhooks signed with an account's auth token."""

    def __init__(self, connection, after_commit=None) -> None:
        self.connection = connection
        self.client = Client()
        # django_capture_on_commit_callbacks: an inbound text is threaded (and its rules' effects
        # run) after its transaction commits, which a test's own transaction never does.
        self.after_commit = after_commit

    @property
    def account_sid(self) -> str:
        return self.connection.credentials["accountSid"]

    def post(self, kind: str, params: dict, *, query: str = "", token: str | None = None, signed_url: str | None = None,
             sent_params: dict | None = None, path_prefix: str = "/connect/webhook/twilio/"):
        path = f"{path_prefix}{kind}" + (f"?{query}" if query else "")
        params = {"AccountSid": self.account_sid, **params}
        signature = RequestValidator(token or self.connection.credentials["authToken"]).compute_signature(
            signed_url or f"{PUBLIC}{path}", params)
        return self.client.post(path, sent_params if sent_params is not None else params,
                                HTTP_X_TWILIO_SIGNATURE=signature)

    def post_json(self, kind: str, body: dict, *, token: str | None = None, tamper: str | None = None):
        raw = json.dumps({"AccountSid": self.account_sid, **body})
        path = f"/connect/webhook/twilio/{kind}?{urlencode({'bodySHA256': hashlib.sha256(raw.encode()).hexdigest()})}"
        signature = RequestValidator(token or self.connection.credentials["authToken"]).compute_signature(
            f"{PUBLIC}{path}", {})
        return self.client.post(path, tamper or raw, content_type="application/json",
                                HTTP_X_TWILIO_SIGNATURE=signature)

    def sms(self, body: str, *, sid: str = "SM" + "1" * 32, from_: str = CALLER, to: str = NUMBER,
            commit: bool = True, **extra):
        """`commit=False`: only the request, without what runs after its commit."""
        params = {"MessageSid": sid, "From": from_, "To": to, "Body": body, "NumSegments": "1", **extra}
        if not commit or self.after_commit is None:
            return self.post("sms", params)
        with self.after_commit(execute=True):
            return self.post("sms", params)

    def call(self, kind: str = "voice", *, query: str = "", call_sid: str = "CA" + "1" * 32, from_: str = CALLER,
             to: str = NUMBER, **extra):
        return self.post(kind, {"CallSid": call_sid, "From": from_, "To": to, "CallStatus": "ringing",
                                "Direction": "inbound", **extra}, query=query)


@pytest.fixture
def twilio(sandbox, django_capture_on_commit_callbacks) -> Twilio:
    return Twilio(sandbox, django_capture_on_commit_callbacks)


@pytest.fixture
def text(twilio):
    """Texts in from CALLER, each with a new MessageSid; the TwiML answer, parsed."""
    counter = iter(range(1, 1000))

    def send(body: str, **extra):
        return twiml(twilio.sms(body, sid=f"SM{next(counter):032x}", **extra))
    return send


def twiml(response) -> ET.Element:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "Response"
    return root


def children(element: ET.Element) -> list[tuple[str, dict, str]]:
    return [(child.tag, dict(child.attrib), (child.text or "").strip()) for child in element]
