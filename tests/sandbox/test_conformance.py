"""The emulator as any Twilio client sees it: the official clients over real HTTP (live_server),
every answer checked against Twilio's own OpenAPI spec (../shared/twilio/twilio_api_v2010.json).

twilio-python (installed) and twilio-node (installed from the npm registry into a temp dir) run the
same operations on every resource the sandbox emulates. Each prints its figure: of the operations
Twilio's spec declares on those resources, how many the emulator answered as the spec says. The
operations not emulated (listed with the figure) are the ones the sandbox refuses on purpose.

Without the spec kit these tests skip (REQUIRE_CONTRACT=1 makes that a failure); without npm the
twilio-node test skips (REQUIRE_SERVICES=1 makes that a failure).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import wave
from io import BytesIO
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from sandbox.models import SandboxCall
from sandbox.services import sandbox_account_create

KIT = settings.BASE_DIR.parent / "shared" / "twilio"
SPEC_FILE = KIT / "twilio_api_v2010.json"
SPEC_URI = "urn:twilio:api:v2010"
A = "/2010-04-01/Accounts/{AccountSid}"
# The resources the sandbox emulates: every operation the spec declares on these paths counts.
EMULATED = re.compile(r"^/2010-04-01/Accounts(\.json|/\{Sid\}\.json|/\{AccountSid\}/("
                      r"AvailablePhoneNumbers(\.json|/\{CountryCode\}(\.json|/[A-Za-z]+\.json))"
                      r"|IncomingPhoneNumbers(\.json|/\{Sid\}\.json|/(Local|TollFree|Mobile)\.json)"
                      r"|Messages(\.json|/\{Sid\}\.json)|Calls(\.json|/\{Sid\}\.json)"
                      r"|Calls/\{CallSid\}/Recordings(\.json|/\{Sid\}\.json)|Recordings(\.json|/\{Sid\}\.json)))$")
# What the sandbox refuses on purpose: it has no subaccounts and sells no number of these kinds.
NOT_EMULATED = {("/2010-04-01/Accounts.json", "post")} | {
    (f"{A}/AvailablePhoneNumbers/{{CountryCode}}/{kind}.json", "get")
    for kind in ("National", "SharedCost", "Voip", "MachineToMachine")}
HTTP_METHODS = ("get", "post", "put", "delete", "patch")


def _kit_missing(reason: str) -> None:
    if os.environ.get("REQUIRE_CONTRACT") == "1":
        pytest.fail(f"REQUIRE_CONTRACT=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def spec() -> dict:
    if not SPEC_FILE.exists():
        _kit_missing(f"Twilio's spec not found at {SPEC_FILE} (clone the repo with shared/ beside it)")
    return json.loads(SPEC_FILE.read_text())


@pytest.fixture(scope="module")
def registry(spec) -> Registry:
    return Registry().with_resource(SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT4))


def spec_operations(spec: dict) -> set[tuple[str, str]]:
    return {(path, method) for path, item in spec["paths"].items() if EMULATED.match(path)
            for method in HTTP_METHODS if method in item}


def spec_errors(spec: dict, registry: Registry, path: str, method: str, status: int, body: str | None,
                headers: dict[str, str]) -> list[str]:
    """Why an answer is not what the spec declares for (path, method): [] when it is."""
    responses = spec["paths"][path][method]["responses"]
    if str(status) not in responses:
        return [f"status {status}, the spec declares {sorted(responses)}: {(body or '')[:300]}"]
    if status == 204:
        content_type = {k.lower(): v for k, v in headers.items()}.get("content-type")
        return [f"a 204 with a body or a content type ({content_type!r})"] if body or content_type else []
    pointer = "/".join(["", "paths", path.replace("~", "~0").replace("/", "~1"), method, "responses", str(status),
                        "content", "application~1json", "schema"])
    validator = OAS30ReadValidator({"$ref": f"{SPEC_URI}#{quote(pointer, safe='/~')}"}, registry=registry,
                                   format_checker=oas30_format_checker)
    document = json.loads(body or "null")
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]
    schema = responses[str(status)]["content"]["application/json"]["schema"]
    declared = _properties(spec, schema)
    errors += [f"missing {name}" for name in sorted(declared - set(document))]
    for key, item_schema in ((k, v["items"]) for k, v in schema.get("properties", {}).items()
                             if v.get("type") == "array" and "$ref" in v.get("items", {})):
        if not document.get(key):
            errors.append(f"no {key} to check")
        for item in document.get(key) or []:
            errors += [f"{key}[]: missing {name}" for name in sorted(_properties(spec, item_schema) - set(item))]
    return errors


def _properties(spec: dict, schema: dict) -> set[str]:
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return set(schema.get("properties", {}))


def figure(client: str, spec: dict, passed: set[tuple[str, str]]) -> str:
    operations = spec_operations(spec)
    missing = sorted(operations - passed)
    return (f"{client} {len(passed & operations)}/{len(operations)} of the spec's operations on the emulated "
            f"resources answered as the spec says; not answered: "
            + ", ".join(f"{m.upper()} {p.replace(A, '')}" for p, m in missing))


@pytest.fixture
def served(live_server):
    """A fresh sandbox account and the emulator's base URL on the live server."""
    account = sandbox_account_create(friendly_name="Conformance")
    return account, f"{live_server.url}/sandbox"


# ---------------------------------------------------------------- twilio-python

class SandboxHttp(TwilioHttpClient):
    """The README's client (swap api.twilio.com for the sandbox), keeping every exchange."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url
        self.exchanges: list[dict] = []

    def request(self, method, url, *args, **kwargs):
        response = super().request(method, url.replace("https://api.twilio.com", self.base_url), *args, **kwargs)
        self.exchanges.append({"method": method.lower(), "url": url, "status": response.status_code,
                               "body": response.text, "headers": dict(response.headers or {})})
        return response


def python_operations(client: Client, account_sid: str):
    """(spec path, method, what to do) in order; each step's last exchange is the one checked."""
    api = client.api.v2010
    state: dict = {}
    gb = client.available_phone_numbers("GB")
    us = client.available_phone_numbers("US")
    call_twiml = "<Response><Say>Hello</Say><Pause length=\"30\"/></Response>"

    def new_call(key: str):
        state[key] = client.calls.create(to="+14155550123", from_="+15005550006", twiml=call_twiml).sid

    def number():
        return client.incoming_phone_numbers(state["number"])

    def buy(key: str, resource, offers_key: str, **documents):
        state[key] = resource.create(phone_number=state[offers_key].pop(0).phone_number, **documents).sid

    def uk_address() -> str:
        """GB mobiles need an address in the United Kingdom (sandbox/requirements.py)."""
        return client.addresses.create(customer_name="Conformance Ltd", street="1 High St", city="London",
                                       region="London", postal_code="EC1A 1AA", iso_country="GB").sid

    return [
        ("/2010-04-01/Accounts.json", "get", lambda: api.accounts.list()),
        ("/2010-04-01/Accounts/{Sid}.json", "get", lambda: api.accounts(account_sid).fetch()),
        ("/2010-04-01/Accounts/{Sid}.json", "post", lambda: api.accounts(account_sid).update(friendly_name="Renamed")),
        (f"{A}/AvailablePhoneNumbers.json", "get", lambda: client.available_phone_numbers.list()),
        (f"{A}/AvailablePhoneNumbers/{{CountryCode}}.json", "get", lambda: us.fetch()),
        (f"{A}/AvailablePhoneNumbers/{{CountryCode}}/Local.json", "get", lambda: state.update(
            local=us.local.list(area_code=415, in_locality="San Francisco", sms_enabled=True, limit=10))),
        (f"{A}/AvailablePhoneNumbers/{{CountryCode}}/TollFree.json", "get", lambda: state.update(
            toll_free=us.toll_free.list(limit=5))),
        (f"{A}/AvailablePhoneNumbers/{{CountryCode}}/Mobile.json", "get", lambda: state.update(
            mobile=gb.mobile.list(limit=5))),
        (f"{A}/IncomingPhoneNumbers.json", "post", lambda: buy("number", client.incoming_phone_numbers, "local")),
        (f"{A}/IncomingPhoneNumbers/Local.json", "post",
         lambda: buy("local_number", client.incoming_phone_numbers.local, "local")),
        (f"{A}/IncomingPhoneNumbers/TollFree.json", "post",
         lambda: buy("toll_free_number", client.incoming_phone_numbers.toll_free, "toll_free")),
        (f"{A}/IncomingPhoneNumbers/Mobile.json", "post",
         lambda: buy("mobile_number", client.incoming_phone_numbers.mobile, "mobile", address_sid=uk_address())),
        (f"{A}/IncomingPhoneNumbers.json", "get", lambda: client.incoming_phone_numbers.list(page_size=2)),
        (f"{A}/IncomingPhoneNumbers/Local.json", "get", lambda: client.incoming_phone_numbers.local.list()),
        (f"{A}/IncomingPhoneNumbers/TollFree.json", "get", lambda: client.incoming_phone_numbers.toll_free.list()),
        (f"{A}/IncomingPhoneNumbers/Mobile.json", "get", lambda: client.incoming_phone_numbers.mobile.list()),
        (f"{A}/IncomingPhoneNumbers/{{Sid}}.json", "get", lambda: number().fetch()),
        (f"{A}/IncomingPhoneNumbers/{{Sid}}.json", "post", lambda: number().update(
            voice_caller_id_lookup=True, voice_receive_mode="voice", address_sid="AD" + "1" * 32,
            emergency_address_sid="AD" + "2" * 32, emergency_status="Active", bundle_sid="BU" + "3" * 32,
            identity_sid="RI" + "4" * 32, trunk_sid="TK" + "5" * 32, voice_url="https://example.com/voice")),
        (f"{A}/Messages.json", "post", lambda: state.update(message=client.messages.create(
            to="+14155550123", from_="+15005550006", body="Hello").sid)),
        (f"{A}/Messages.json", "get", lambda: client.messages.list(to="+14155550123")),
        (f"{A}/Messages/{{Sid}}.json", "get", lambda: client.messages(state["message"]).fetch()),
        (f"{A}/Messages/{{Sid}}.json", "post", lambda: client.messages(state["message"]).update(body="")),
        (f"{A}/Messages/{{Sid}}.json", "delete", lambda: client.messages(state["message"]).delete()),
        (f"{A}/Calls.json", "post", lambda: new_call("call")),
        (f"{A}/Calls.json", "get", lambda: client.calls.list(from_="+15005550006")),
        (f"{A}/Calls/{{Sid}}.json", "get", lambda: client.calls(state["call"]).fetch()),
        (f"{A}/Calls/{{CallSid}}/Recordings.json", "post", lambda: state.update(
            recording=client.calls(state["call"]).recordings.create().sid)),
        (f"{A}/Calls/{{CallSid}}/Recordings.json", "get", lambda: client.calls(state["call"]).recordings.list()),
        (f"{A}/Calls/{{CallSid}}/Recordings/{{Sid}}.json", "post",
         lambda: client.calls(state["call"]).recordings(state["recording"]).update(status="paused")),
        (f"{A}/Calls/{{CallSid}}/Recordings/{{Sid}}.json", "get",
         lambda: client.calls(state["call"]).recordings(state["recording"]).fetch()),
        (f"{A}/Calls/{{Sid}}.json", "post", lambda: client.calls(state["call"]).update(
            twiml="<Response><Say>Redirected</Say></Response>")),
        (f"{A}/Calls/{{Sid}}.json", "post", lambda: client.calls(state["call"]).update(status="completed")),
        (f"{A}/Recordings.json", "get", lambda: client.recordings.list()),
        (f"{A}/Recordings/{{Sid}}.json", "get", lambda: client.recordings(state["recording"]).fetch()),
        (f"{A}/Calls/{{CallSid}}/Recordings/{{Sid}}.json", "delete",
         lambda: client.calls(state["call"]).recordings(state["recording"]).delete()),
        (f"{A}/Calls/{{Sid}}.json", "delete", lambda: client.calls(state["call"]).delete()),
        (f"{A}/Calls.json", "post", lambda: new_call("second")),
        (f"{A}/Calls/{{CallSid}}/Recordings.json", "post", lambda: state.update(
            second_recording=client.calls(state["second"]).recordings.create().sid)),
        (f"{A}/Calls/{{Sid}}.json", "post", lambda: client.calls(state["second"]).update(status="canceled")),
        (f"{A}/Recordings/{{Sid}}.json", "delete", lambda: client.recordings(state["second_recording"]).delete()),
        (f"{A}/IncomingPhoneNumbers/{{Sid}}.json", "delete", lambda: number().delete()),
    ], state


def check(spec, registry, exchanges: list[dict], path: str, method: str) -> list[str]:
    if not exchanges:
        return ["no request was sent"]
    last = exchanges[-1]
    if last["method"] != method:
        return [f"the last request was {last['method'].upper()} {last['url']}"]
    return spec_errors(spec, registry, path, method, last["status"], last["body"], last["headers"])


def test_twilio_python_conformance(spec, registry, served):
    account, base_url = served
    http = SandboxHttp(base_url)
    client = Client(account.sid, account.auth_token, http_client=http)
    steps, state = python_operations(client, account.sid)
    passed: set[tuple[str, str]] = set()
    failures: list[str] = []
    try:
        for path, method, run in steps:
            try:
                run()
                errors = check(spec, registry, http.exchanges, path, method)
            except Exception as exc:  # the client raised: a refusal it could not read, or a bad answer
                errors = [f"{type(exc).__name__}: {exc}"]
            if errors:
                failures.append(f"{method.upper()} {path}: {errors}")
            else:
                passed.add((path, method))
    finally:
        http.session.close()
    print("\n" + figure("twilio-python", spec, passed))
    assert not failures, failures
    assert spec_operations(spec) - passed == NOT_EMULATED

    # What the steps left behind is what they asked for.
    assert not SandboxCall.objects.filter(sid=state["call"]).exists()  # deleted once over
    second = SandboxCall.objects.get(sid=state["second"])
    assert (second.status, second.recording_sid) == ("canceled", "")


def test_what_python_steps_change_is_kept(served):
    """Updates are applied, not echoed: the redirect's TwiML is on the call, the number's fields stored."""
    account, base_url = served
    http = SandboxHttp(base_url)
    client = Client(account.sid, account.auth_token, http_client=http)
    try:
        call = client.calls.create(to="+14155550123", from_="+15005550006", application_sid="AP" + "6" * 32)
        client.calls(call.sid).update(twiml="<Response><Hangup/></Response>")
        assert SandboxCall.objects.get(sid=call.sid).twiml == "<Response><Hangup/></Response>"
        client.calls(call.sid).update(url="https://example.com/next", method="GET")
        stored = SandboxCall.objects.get(sid=call.sid)
        assert (stored.url, stored.method, stored.twiml) == ("https://example.com/next", "GET", "")
        recording = client.calls(call.sid).recordings.create()
        assert client.calls(call.sid).update(status="completed").status == "completed"
        fetched = client.recordings(recording.sid).fetch()
        assert (fetched.status, fetched.duration) == ("completed", "3")
        audio = http.session.get(f"{base_url}/2010-04-01/Accounts/{account.sid}/Recordings/{recording.sid}.wav",
                                 auth=(account.sid, account.auth_token))
        assert audio.headers["Content-Type"] == "audio/x-wav"
        with wave.open(BytesIO(audio.content)) as sound:
            assert sound.getnframes() / sound.getframerate() == 3
        mp3 = http.session.get(f"{base_url}/2010-04-01/Accounts/{account.sid}/Recordings/{recording.sid}.mp3",
                               auth=(account.sid, account.auth_token))
        assert mp3.headers["Content-Type"] == "audio/mpeg" and mp3.content[:2] == b"\xff\xfb"

        number = client.incoming_phone_numbers.create(phone_number="+15005550006")
        again = client.incoming_phone_numbers.create(phone_number="+15005550006")
        assert number.sid != again.sid
        updated = client.incoming_phone_numbers(number.sid).update(voice_caller_id_lookup=True,
                                                                   voice_receive_mode="fax")
        fetched = client.incoming_phone_numbers(number.sid).fetch()
        assert (updated.voice_caller_id_lookup, fetched.voice_caller_id_lookup, fetched.voice_receive_mode) == (
            True, True, "fax")
    finally:
        http.session.close()


# ---------------------------------------------------------------- twilio-node

NODE_SCRIPT = Path(__file__).with_name("twilio_node_conformance.js")


def test_twilio_node_conformance(spec, registry, served, twilio_node):
    account, base_url = served
    script = twilio_node / "conformance.js"
    script.write_text(NODE_SCRIPT.read_text())
    ran = subprocess.run(["node", str(script)], cwd=twilio_node, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "BASE": base_url, "SID": account.sid, "TOKEN": account.auth_token})
    assert ran.returncode == 0, ran.stderr[-3000:]
    passed: set[tuple[str, str]] = set()
    failures: list[str] = []
    for result in json.loads(ran.stdout):
        path, method, exchange = result["path"], result["method"], result["exchange"]
        errors = [result["error"]] if result["error"] else check(spec, registry, [exchange] if exchange else [],
                                                                  path, method)
        if errors:
            failures.append(f"{method.upper()} {path}: {errors}")
        else:
            passed.add((path, method))
    print("\n" + figure("twilio-node", spec, passed))
    assert not failures, failures
    assert spec_operations(spec) - passed == NOT_EMULATED


# ---------------------------------------------------------------- the README's snippet

def test_the_readme_python_snippet_runs(served, capsys):
    account, base_url = served
    readme = (settings.BASE_DIR / "README.md").read_text()
    block = re.search(r"<!-- sandbox-client python -->\n```python\n(.*?)```", readme, re.S).group(1)
    environ = {"TWILIO_ACCOUNT_SID": account.sid, "TWILIO_AUTH_TOKEN": account.auth_token,
               "TWILIO_BASE_URL": base_url}
    saved = {name: os.environ.get(name) for name in environ}
    os.environ.update(environ)
    try:
        namespace: dict = {}
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 — our own README's snippet
        namespace["client"].http_client.session and namespace["client"].http_client.session.close()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    printed = capsys.readouterr().out.split()
    assert printed[0].startswith("PN") and printed[1].startswith("SM") and printed[2] == "completed"


def test_the_readme_node_snippet_runs(served, twilio_node):
    account, base_url = served
    readme = (settings.BASE_DIR / "README.md").read_text()
    block = re.search(r"<!-- sandbox-client node -->\n```js\n(.*?)```", readme, re.S).group(1)
    script = twilio_node / "readme.js"
    script.write_text(block)
    ran = subprocess.run(["node", str(script)], cwd=twilio_node, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "TWILIO_ACCOUNT_SID": account.sid, "TWILIO_AUTH_TOKEN": account.auth_token,
                              "TWILIO_BASE_URL": base_url})
    assert ran.returncode == 0, ran.stderr[-2000:]
    number_sid, message_sid = ran.stdout.split()
    assert number_sid.startswith("PN") and message_sid.startswith("SM")
