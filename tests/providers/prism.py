"""What the Twilio contract tests share: the kit (../shared/twilio: the official specs and Prism),
a Prism of a test's own serving one spec, a provider whose requests are recorded with the
violations Prism reports, and the check of an answer against the spec's response schema.

Without the kit the tests skip, saying so; with REQUIRE_CONTRACT=1 (CI) they fail instead.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from providers.twilio.client import TwilioProvider
from providers.twilio.http import ProviderHttpClient
from sandbox.client import SandboxHttpClient

KIT = settings.BASE_DIR.parent / "shared" / "twilio"
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
NUMBER_SID = "PN" + "0123456789abcdef" * 2


def kit_missing(reason: str) -> None:
    if os.environ.get("REQUIRE_CONTRACT") == "1":
        pytest.fail(f"REQUIRE_CONTRACT=1 but {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def load_spec(spec_file: Path) -> dict:
    if not spec_file.exists():
        kit_missing(f"{spec_file.name} not found in {KIT} (clone the repo with shared/ beside it)")
    return json.loads(spec_file.read_text())


@contextmanager
def prism_serving(spec_file: Path) -> Iterator[str]:
    """Prism serving `spec_file` on a free port, with a state directory of its own; stopped at the
    end. A second try on another port covers the port being taken between choosing and binding it."""
    state = tempfile.mkdtemp(prefix=f"telephony-prism-{spec_file.stem}-")
    failures = []
    for _ in range(2):
        env = {**os.environ, "PORT": str(free_port()), "STATE_DIR": state, "SPEC": str(spec_file)}
        started = subprocess.run(["bash", str(KIT / "start_prism.sh")], env=env, capture_output=True, text=True,
                                 timeout=900)
        if started.returncode == 0:
            break
        failures.append(f"{started.stdout[-1500:]} {started.stderr[-1500:]}")
    else:
        shutil.rmtree(state, ignore_errors=True)
        kit_missing(f"Prism ({spec_file.name}) did not start: {' / '.join(failures)}")
    try:
        yield f"http://127.0.0.1:{env['PORT']}"
    finally:
        subprocess.run(["bash", str(KIT / "stop_prism.sh")], env=env, capture_output=True, timeout=60)
        shutil.rmtree(state, ignore_errors=True)


class RecordingHttpClient(ProviderHttpClient):
    """Records every exchange, with the request violations Prism reports (like twilio_mock_client.py)."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url, timeout=30)
        self.calls: list[dict] = []

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False):
        response = super().request(method, url, params=params, data=data, headers=headers, auth=auth,
                                   timeout=timeout, allow_redirects=allow_redirects)
        raw = (response.headers or {}).get("sl-violations")
        # Prism also flags its own static examples against the spec; only the request half is ours.
        violations = [v for v in json.loads(raw) if v["location"][0] == "request"] if raw else []
        self.calls.append({"method": method, "url": url, "params": params, "data": data,
                           "status": response.status_code, "violations": violations})
        return response


@contextmanager
def provider_against(prism_url: str, settings) -> Iterator[tuple[TwilioProvider, RecordingHttpClient]]:
    """A Twilio provider sending to `prism_url` through the real SDK, its exchanges recorded."""
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]  # the operator allows the mock; the guard stays on
    http = RecordingHttpClient(prism_url)
    try:
        yield TwilioProvider(account_sid=ACCOUNT_SID, auth_token="f" * 32, http_client=http), http
    finally:
        http.session.close()


def assert_accepted(http: RecordingHttpClient, count: int | None = 1) -> list[dict]:
    """Every request (`count` of them; None: at least one) accepted: no 422, no violation, a 2xx."""
    assert len(http.calls) == count if count is not None else http.calls, http.calls
    for call in http.calls:
        assert call["status"] != 422 and not call["violations"], call
        assert 200 <= call["status"] < 300, call
    return http.calls


def spec_registry(uri: str, spec: dict) -> Registry:
    return Registry().with_resource(uri, Resource.from_contents(spec, default_specification=DRAFT4))


def response_schema(spec: dict, path: str, method: str, status: int) -> dict:
    return spec["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]


def declared_properties(spec: dict, schema: dict) -> set[str]:
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return set(schema.get("properties", {}))


def assert_matches_spec(spec: dict, registry: Registry, body, path: str, method: str = "get", status: int = 200,
                        list_key: str | None = None, *, uri: str, declared: bool = True) -> None:
    """`body` validates against the response schema of `path` in the spec registered as `uri`; with
    `declared`, it also has every property the schema declares (each item of `list_key` too)."""
    pointer = "/".join(["", "paths", path.replace("~", "~0").replace("/", "~1"), method, "responses", str(status),
                        "content", "application~1json", "schema"])
    validator = OAS30ReadValidator({"$ref": f"{uri}#{quote(pointer, safe='/~')}"}, registry=registry,
                                   format_checker=oas30_format_checker)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]
    assert not errors, errors
    if not declared:
        return
    schema = response_schema(spec, path, method, status)
    assert declared_properties(spec, schema) <= set(body), declared_properties(spec, schema) - set(body)
    if list_key:
        item_schema = schema["properties"][list_key]["items"]
        assert body[list_key], f"no {list_key} to check"
        for item in body[list_key]:
            missing = declared_properties(spec, item_schema) - set(item)
            assert not missing, missing


class CapturingSandboxClient(SandboxHttpClient):
    """The sandbox's in-process client, keeping each answer's status and body."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[tuple[str, int, dict | None]] = []

    def request(self, method, url, *args, **kwargs):
        response = super().request(method, url, *args, **kwargs)
        self.bodies.append((method, response.status_code, json.loads(response.text) if response.text else None))
        return response
