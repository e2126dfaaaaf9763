"""No input makes a 5xx.

Every write operation of the API (from the OpenAPI schema, checked against the URL resolver so a
new route cannot hide from it) gets malformed JSON, deep nesting, wrong types, huge strings,
out-of-range numbers and NUL characters, field by field, as Alice (an owner, with a sandbox
connection, a balance and a number). Every list gets out-of-range paging. Every webhook kind of
every provider gets validly signed requests with out-of-range or malformed fields, and deep JSON.
What each answers is its own business (400, 403, 404, 409, 422 ...): only a 5xx fails, and the
failures are listed together. Runs on SQLite and PostgreSQL (which refuses NUL in text and
overflows integers).
"""
from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from typing import Any
from unittest import mock
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken
from twilio.request_validator import RequestValidator

from billing.services import ledger_topup
from orgs.models import ProviderConnection
from orgs.services import connection_create
from phones.models import PhoneNumber, PhoneRouting
from providers.base import SentMessage
from providers.plivo.client import signature_v3
from providers.telnyx.client import TelnyxProvider
from tests.webhooks.test_telnyx import KEY as TELNYX_KEY
from tests.webhooks.test_telnyx import PUBLIC_KEY as TELNYX_PUBLIC_KEY

PUBLIC = "https://app.example.com"
TWILIO_NUMBER, PLIVO_NUMBER, TELNYX_NUMBER = "+14155550100", "+14155550300", "+14155550400"
CALLER = "+14155550111"
PLIVO_ID, PLIVO_TOKEN = "MAXXXXXXXXXXXXXXXXXX", "plivo-auth-token-0123456789"

DEEP_OBJECT = '{"a":' * 5000
DEEP_ARRAY = "[" * 5000 + "]" * 5000
# Bodies that are not (usable) JSON objects.
RAW_BODIES: list[bytes] = [
    b'{"a":', DEEP_OBJECT.encode(), DEEP_ARRAY.encode(), b"[" * 100 + b"]" * 100, b"[]", b'"text"', b"null",
    b"1e999", b"NaN", b'{"a": Infinity}', b"\xff\xfe\x00", b'{"\\u0000": 1}', b'{"a": "\\u0000"}',
    b'{"a": "\\ud800"}', b"{" + b'"k": 1, ' * 20000 + b'"z": 1}',
]
HUGE = "x" * 100_000
# What each field gets in turn, in place of a sensible value.
FIELD_VALUES: list[Any] = [
    None, True, [], {}, [1, [2, [3]]], {"a": {"b": {"c": {}}}}, "", HUGE, "a\x00b", "\x00",
    2**63, -(2**63) - 1, 10**30, -1, 0, 1.5e308, -1e-308, "9" * 40, "٣", "+1415555abcd", "++14155550100",
    "+1 415 555 0100 x12", "'; DROP TABLE x; --", "\U0001F600" * 1000, "2026-02-30T25:61:00Z",
    json.loads("[" * 30 + "]" * 30),
]
QUERY_VALUES = ["9223372036854775808", "-9223372036854775809", "99999999999999999999999999", "-1", "abc",
                "\x00", "1.5", "1e400", "x" * 10_000, "", "2026-02-30T25:61:00Z"]

# Routes outside the API's schema, on purpose: Django's admin, the Twilio emulator, the providers'
# webhooks (battered below), the schema and docs themselves, health.
NOT_IN_SCHEMA = ("admin/", "sandbox/", "connect/webhook/", "api/schema", "api/docs", "api/redoc", "healthz")
PARAMETER = re.compile(r"\{[^}]*\}")


class Battery:
    """Sends requests, counts them, keeps every 5xx (and every exception a view let out)."""

    def __init__(self) -> None:
        self.count = 0
        self.failures: list[str] = []

    def send(self, label: str, call, *args, **kwargs) -> Any:
        self.count += 1
        try:
            response = call(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - an exception out of a view is a 500 in production
            self.failures.append(f"{label}: {type(exc).__name__}: {str(exc)[:200]}")
            return None
        if response.status_code >= 500:
            body = response.content[:200].decode(errors="replace")
            self.failures.append(f"{label}: {response.status_code} {body}")
        return response


@pytest.fixture
def battery(request) -> Iterator[Battery]:
    run = Battery()
    yield run
    # The figures, for whoever reads the run (pytest -s, or -rA with the report section).
    request.node.add_report_section("call", "battery", f"{run.count} requests, {len(run.failures)} >= 500")
    print(f"\nBATTERY {request.node.name}: {run.count} requests, {len(run.failures)} responses >= 500")


@pytest.fixture(autouse=True)
def public_base_url(settings):
    settings.PUBLIC_BASE_URL = PUBLIC


@pytest.fixture
def world(org, alice, django_capture_on_commit_callbacks):
    """Alice's org with a balance, a sandbox connection and an active number bought through the API."""
    sandbox = connection_create(org=org, type_="sandbox-provider", name="Sandbox", credentials={})
    ledger_topup(org=org, amount=100_000, reason="battery")
    number = PhoneNumber.objects.create(org=org, connection=sandbox, e164=TWILIO_NUMBER, country="US",
                                        status=PhoneNumber.Status.ACTIVE, friendly_name="Main line")
    PhoneRouting.objects.create(phone_number=number)
    return {"org": org, "sandbox": sandbox, "number": number}


def api(alice, org, *, authenticated: bool = True) -> APIClient:
    client = APIClient(raise_request_exception=False)
    if authenticated:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(alice).access_token}",
                           HTTP_ORGID=org.slug)
    return client


# ---------------------------------------------------------------- the API's operations

def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def resolver_routes() -> set[str]:
    """Every route of the URL resolver, as a path template ("phone/numbers/{public_id}")."""
    routes: set[str] = set()

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            text = str(pattern.pattern).replace("^", "").replace("$", "")
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + text)
            elif isinstance(pattern, URLPattern):
                routes.add((prefix + text).replace("<str:", "{").replace("<", "{").replace(">", "}"))

    walk(get_resolver().url_patterns, "")
    return routes


def deref(spec: dict, node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def sample(spec: dict, node: dict, depth: int = 0) -> Any:
    """A plausible value for a schema node: the base each field's bad value is put into."""
    node = deref(spec, node)
    if "enum" in node and node["enum"]:
        return node["enum"][0]
    for combined in ("oneOf", "anyOf", "allOf"):
        if node.get(combined):
            return sample(spec, node[combined][0], depth)
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        if depth > 3:
            return {}
        return {name: sample(spec, prop, depth + 1) for name, prop in node.get("properties", {}).items()
                if name in node.get("required", []) or depth == 0}
    if kind == "array":
        return []
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return True
    if node.get("format") == "date-time":
        return "2026-01-01T00:00:00Z"
    return "x"


def body_schema(spec: dict, operation: dict) -> dict:
    content = (operation.get("requestBody") or {}).get("content", {})
    media = content.get("application/json") or next(iter(content.values()), None)
    return deref(spec, media["schema"]) if media else {}


def fill(path: str, ids: dict[str, str]) -> str:
    for prefix, value in ids.items():
        if path.startswith(prefix):
            return PARAMETER.sub(value, path)
    return PARAMETER.sub("zz_doesnotexist0000000000", path)


def operations(spec: dict) -> list[tuple[str, str, dict]]:
    ops = [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()
           if method in ("get", "post", "put", "patch", "delete")]
    # Deletions last: they release the number and the connection the others need.
    return sorted(ops, key=lambda op: op[1] == "delete")


def test_every_route_is_in_the_schema_or_named_here():
    documented = {PARAMETER.sub("{}", path.lstrip("/")) for path in schema()["paths"]}
    routes = {PARAMETER.sub("{}", route) for route in resolver_routes() if not route.startswith(NOT_IN_SCHEMA)}
    assert routes - documented == set()
    assert len(documented) > 20


def test_no_api_input_makes_a_5xx(alice, world, battery, django_capture_on_commit_callbacks):
    spec = schema()
    owner = api(alice, world["org"])
    anonymous = api(alice, world["org"], authenticated=False)
    ids = {"/phone/numbers/": world["number"].public_id, "/integrations/": world["sandbox"].public_id}
    writes = 0
    for path, method, operation in operations(spec):
        url = fill(path, ids)
        send = getattr(owner, method)
        if method == "get":
            params = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"]
            for name in params:
                for value in QUERY_VALUES:
                    battery.send(f"GET {path}?{name}={value[:20]!r}", owner.get, url, {name: value})
            continue
        writes += 1
        clients = [owner] + ([anonymous] if path.startswith("/api/auth") else [])
        for client in clients:
            for raw in RAW_BODIES:
                battery.send(f"{method.upper()} {path} raw {raw[:20]!r}",
                             getattr(client, method), url, raw, content_type="application/json")
        base = sample(spec, body_schema(spec, operation)) if method != "delete" else {}
        base = base if isinstance(base, dict) else {}
        properties = deref(spec, body_schema(spec, operation)).get("properties", {}) if method != "delete" else {}
        for name in properties:
            for value in FIELD_VALUES:
                body = {**base, name: value}
                for client in clients:
                    battery.send(f"{method.upper()} {path} {name}={str(value)[:30]!r}",
                                 getattr(client, method), url, body, format="json")
                # Nested objects get the same treatment one level down.
                nested = deref(spec, properties[name])
                if nested.get("properties") and value is not None and not isinstance(value, (dict, list)):
                    for inner in nested["properties"]:
                        body = {**base, name: {**(base.get(name) or {}), inner: value}}
                        battery.send(f"{method.upper()} {path} {name}.{inner}={str(value)[:30]!r}",
                                     send, url, body, format="json")
        battery.send(f"{method.upper()} {path} unknown keys",
                     send, url, {**base, "\x00": 1, "x" * 1000: HUGE}, format="json")
        battery.send(f"{method.upper()} {path} form body",
                     send, url, "a=1&b=%00", content_type="application/x-www-form-urlencoded")
    assert writes >= 15
    assert battery.failures == []


def test_unknown_paths_and_trailing_slashes_answer_the_json_error_shape(alice, world, battery):
    owner = api(alice, world["org"])
    for path in ["/nope", "/phone/numbers/", "/billing/ledger/", "/api/auth/token/", "/phone/numbers/x/y/z",
                 "/connect/webhook/twilio/nope/extra", "/api/", "/%00", "/" + "a" * 5000]:
        for method in ("get", "post"):
            response = battery.send(f"{method} {path}", getattr(owner, method), path)
            assert response is not None and response.status_code == 404, (method, path)
            assert response["Content-Type"] == "application/json"
            assert response.json()["error"]["code"] == "not_found"
    # The admin's not-found pages stay Django's HTML; the sandbox answers as Twilio does (its 401 first).
    response = Client(raise_request_exception=False).get("/admin/nope/")
    assert response.status_code in (302, 404)
    assert not response["Content-Type"].startswith("application/json")
    response = Client(raise_request_exception=False).get("/sandbox/nope")
    assert response.status_code == 401 and response.json()["code"] == 20003
    assert battery.failures == []


# ---------------------------------------------------------------- the providers' webhooks

TWILIO_KINDS = ("voice", "ivr-menu", "sms", "status", "recording", "transcription")
BAD_FIELDS: list[dict[str, str]] = [
    {"CallDuration": "-5"}, {"CallDuration": "9" * 20}, {"CallDuration": "abc"}, {"Duration": "9" * 20},
    {"Body": "STOP\x00"}, {"Body": "\x00" * 10}, {"Body": HUGE}, {"From": CALLER + "\x00"}, {"From": "+" + "1" * 300},
    {"To": "\x00"}, {"MessageSid": "SM" + "f" * 298}, {"CallSid": "CA" + "f" * 298},
    {"RecordingSid": "RE" + "f" * 298}, {"NumMedia": "9" * 20}, {"NumMedia": "-3"},
    {"NumMedia": "2", "MediaUrl0": "x" * 5000, "MediaUrl1": "\x00"}, {"NumSegments": "9" * 20},
    {"NumSegments": "-1"}, {"RecordingDuration": "9" * 20}, {"RecordingDuration": "-5"},
    {"RecordingUrl": "https://x/" + "a" * 3000}, {"Digits": "9" * 5000}, {"Digits": "\x00"},
    {"CallStatus": "completed", "CallDuration": "9" * 20}, {"CallStatus": "x" * 300},
    {"MessageStatus": "delivered", "ErrorCode": "9" * 300}, {"SmsStatus": "x" * 300},
    {"TranscriptionEvent": "transcription-content", "Final": "true", "TranscriptionData": DEEP_OBJECT},
    {"TranscriptionEvent": "transcription-content", "Final": "true", "TranscriptionData": '{"transcript": [1]}',
     "SequenceId": "x" * 300, "Track": "\x00"},
    {"TranscriptionText": HUGE + "\x00", "TranscriptionSid": "TR" + "f" * 298, "TranscriptionStatus": "x" * 300},
    {"Direction": "outbound-api", "From": TWILIO_NUMBER, "To": "+" + "9" * 300},
]


def twilio_base(kind: str, index: int, sandbox: ProviderConnection) -> dict[str, str]:
    sid = f"{index:032d}"
    common = {"AccountSid": sandbox.credentials["accountSid"], "From": CALLER, "To": TWILIO_NUMBER}
    if kind == "sms":
        return {**common, "MessageSid": "SM" + sid, "Body": "hello", "NumSegments": "1"}
    if kind == "status":
        return {**common, "CallSid": "CA" + sid, "CallStatus": "completed", "CallDuration": "61"}
    if kind in ("recording", "transcription"):
        return {**common, "CallSid": "CA" + sid, "RecordingSid": "RE" + sid, "RecordingStatus": "completed",
                "RecordingUrl": "https://api.twilio.com/rec", "TranscriptionText": "hi"}
    return {**common, "CallSid": "CA" + sid, "CallStatus": "ringing", "Direction": "inbound"}


def twilio_post(client: Client, sandbox, kind: str, params: dict) -> Any:
    path = f"/connect/webhook/twilio/{kind}"
    signature = RequestValidator(sandbox.credentials["authToken"]).compute_signature(f"{PUBLIC}{path}", params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


def plivo_post(client: Client, kind: str, params: dict) -> Any:
    path = f"/connect/webhook/plivo/{kind}"
    nonce = base64.b64encode(b"12345678901234567890").decode()
    signature = signature_v3(PLIVO_TOKEN, "POST", f"{PUBLIC}{path}", nonce, {k: [v] for k, v in params.items()})
    return client.post(path, params, HTTP_X_PLIVO_SIGNATURE_V3=signature, HTTP_X_PLIVO_SIGNATURE_V3_NONCE=nonce)


def telnyx_post(client: Client, kind: str, body: bytes, content_type: str) -> Any:
    timestamp = str(int(time.time()))
    signature = base64.b64encode(TELNYX_KEY.sign(timestamp.encode() + b"|" + body)).decode()
    return client.post(f"/connect/webhook/telnyx/{kind}", body, content_type=content_type,
                       HTTP_TELNYX_SIGNATURE_ED25519=signature, HTTP_TELNYX_TIMESTAMP=timestamp)


@pytest.fixture
def other_providers(org):
    plivo = ProviderConnection(org=org, type=ProviderConnection.Type.PLIVO, name="Plivo", account_id=PLIVO_ID)
    plivo.credentials = {"authId": PLIVO_ID, "authToken": PLIVO_TOKEN}
    plivo.save()
    telnyx = ProviderConnection(org=org, type=ProviderConnection.Type.TELNYX, name="Telnyx", account_id="acct-1",
                                public_config={"connectionId": "1234", "messagingProfileId": "mp-1",
                                               "webhookPublicKey": TELNYX_PUBLIC_KEY})
    telnyx.credentials = {"apiKey": "KEY0123"}
    telnyx.save()
    for connection, e164 in ((plivo, PLIVO_NUMBER), (telnyx, TELNYX_NUMBER)):
        number = PhoneNumber.objects.create(org=org, connection=connection, e164=e164, country="US",
                                            status=PhoneNumber.Status.ACTIVE)
        PhoneRouting.objects.create(phone_number=number)


def test_no_webhook_input_makes_a_5xx(world, other_providers, battery, django_capture_on_commit_callbacks):
    client = Client(raise_request_exception=False)
    sandbox = world["sandbox"]
    index = 0
    with mock.patch.object(TelnyxProvider, "send_sms", autospec=True,
                           side_effect=lambda self, **kw: SentMessage(sid="40317", status="queued", to=kw["to"],
                                                                      from_=kw["from_"])):
        for kind in TWILIO_KINDS:
            for fields in BAD_FIELDS:
                index += 1
                twilio = {**twilio_base(kind, index, sandbox), **fields}
                plivo = {"From": CALLER[1:], "To": PLIVO_NUMBER[1:], "CallUUID": f"uuid-{index}",
                         "MessageUUID": f"uuid-{index}", "Text": "hi", "Units": "1", "Type": "sms",
                         "Direction": "inbound", "CallStatus": "completed", "Event": "Hangup", **fields}
                texml = {**twilio_base(kind, index, sandbox), "To": TELNYX_NUMBER, **fields}
                label = f"{kind} {str(fields)[:60]}"
                with django_capture_on_commit_callbacks(execute=True):
                    battery.send(f"twilio {label}", twilio_post, client, sandbox, kind, twilio)
                with django_capture_on_commit_callbacks(execute=True):
                    battery.send(f"plivo {label}", plivo_post, client, kind, plivo)
                with django_capture_on_commit_callbacks(execute=True):
                    battery.send(f"telnyx texml {label}",
                                 telnyx_post, client, kind, urlencode(texml).encode(),
                                                     "application/x-www-form-urlencoded")
            for raw in RAW_BODIES:
                battery.send(f"twilio {kind} raw {raw[:20]!r}",
                             client.post, f"/connect/webhook/twilio/{kind}", raw,
                                                 content_type="application/json")
                battery.send(f"plivo {kind} raw {raw[:20]!r}",
                             client.post, f"/connect/webhook/plivo/{kind}", raw,
                                                 content_type="application/json")
                battery.send(f"telnyx {kind} raw {raw[:20]!r}",
                             telnyx_post, client, kind, raw, "application/json")
        # Telnyx's messaging events, validly signed, with bad fields.
        for kind in ("sms", "status"):
            for payload in telnyx_payloads():
                for event_type in ("message.received", "message.sent", "message.finalized"):
                    body = json.dumps({"data": {"event_type": event_type, "payload": payload}}).encode()
                    with django_capture_on_commit_callbacks(execute=True):
                        battery.send(f"telnyx {kind} {event_type} {str(payload)[:60]}",
                                     telnyx_post, client, kind, body, "application/json")
    assert index >= 150
    assert battery.failures == []


def telnyx_payloads() -> Iterator[Any]:
    good = {"id": "7ee4241c-f127-47e5-9c34-3aac291f8058", "from": {"phone_number": CALLER},
            "to": [{"phone_number": TELNYX_NUMBER, "status": "delivered"}], "text": "hi", "media": [], "parts": 1}
    yield good
    for key, value in [("id", "x" * 300), ("id", 5), ("id", None), ("from", "x"), ("from", {"phone_number": 1}),
                       ("from", {"phone_number": "+" + "1" * 300}), ("to", "x"), ("to", [1]), ("to", []),
                       ("to", [{"phone_number": TELNYX_NUMBER, "status": "x" * 300}]), ("text", 5),
                       ("text", ["a"]), ("text", HUGE), ("media", "x"), ("media", [1, {"url": 5}]),
                       ("media", [{"url": "x" * 5000}] * 20), ("parts", "9" * 20), ("parts", -4), ("parts", 10**30),
                       ("errors", "x"), ("errors", [{"code": "9" * 300}])]:
        yield {**good, key: value}
    yield []
    yield "x"


# ---------------------------------------------------------------- what the answers say

@pytest.mark.parametrize("path", ["/billing/ledger", "/phone/numbers", "/inbox/conversations"])
@pytest.mark.parametrize("field, value", [("offset", "9223372036854775808"), ("offset", "-1"),
                                          ("limit", "9223372036854775808"), ("limit", "0")])
def test_paging_out_of_range_is_a_400_naming_the_field(alice, world, path, field, value):
    response = api(alice, world["org"]).get(path, {field: value})
    assert response.status_code == 400, response.content
    assert response.json()["error"]["field"] == field


@pytest.mark.parametrize("path", ["/api/auth/token", "/api/auth/token/refresh", "/phone/numbers", "/integrations"])
def test_deep_json_is_a_400_signed_in_or_not(alice, world, path):
    for client in (api(alice, world["org"]), api(alice, world["org"], authenticated=False)):
        response = client.post(path, DEEP_OBJECT, content_type="application/json")
        assert response.status_code in (400, 401), response.content
        if response.status_code == 400:
            assert response.json()["error"]["code"] == "parse_error"
    assert api(alice, world["org"], authenticated=False).post(
        "/api/auth/token", DEEP_OBJECT, content_type="application/json").status_code == 400


def test_a_malformed_phone_number_is_a_400_and_buys_nothing(alice, world):
    response = api(alice, world["org"]).post("/phone/numbers", {"phoneNumber": "+1415555abcd"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "phoneNumber"
    assert PhoneNumber.objects.count() == 1  # the world's own number


def test_clamped_webhook_fields_are_stored_within_their_columns(world, django_capture_on_commit_callbacks):
    from phones.models import Call, Message

    client, sandbox = Client(raise_request_exception=False), world["sandbox"]
    with django_capture_on_commit_callbacks(execute=True):
        sms = twilio_post(client, sandbox, "sms", {**twilio_base("sms", 1, sandbox), "Body": "hi\x00there",
                                                   "MessageSid": "SM" + "f" * 298, "NumSegments": "9" * 20})
    assert sms.status_code == 200
    message = Message.objects.get(direction="inbound")
    assert (message.body, len(message.provider_sid), message.segments) == ("hithere", 64, 32767)
    for duration, stored in (("-5", 0), ("9" * 20, 2_147_483_647)):
        params = {**twilio_base("status", 2, sandbox), "CallSid": f"CA{duration[:5]:0>32}", "CallDuration": duration}
        assert twilio_post(client, sandbox, "status", params).status_code == 204
        assert Call.objects.get(provider_sid=params["CallSid"]).duration == stored
