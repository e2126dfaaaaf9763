"""An HTTP client for the twilio SDK that answers from the emulator in-process.

The SDK builds `https://api.twilio.com/2010-04-01/...` requests as usual; instead of
opening a socket, each one is turned into a Django request, resolved against the
sandbox's urlconf and handed to the view. No socket means a single-threaded dev
server can serve a page that talks to its own sandbox without deadlocking.

The emulator then writes through the caller's database connection, inside any
transaction the caller has open (services never call a provider in one).
"""
from __future__ import annotations

import base64
import json
from urllib.parse import urlencode, urlsplit

import requests
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import Resolver404, resolve
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response

from sandbox.twilio_json import FAULT_HEADER, not_found

API_HOST = "api.twilio.com"
# Hosts the emulator answers for; their paths do not overlap (2010-04-01/… and v1/…).
EMULATED_HOSTS = (API_HOST, "messaging.twilio.com", "pricing.twilio.com")


class SandboxHttpClient(TwilioHttpClient):
    def __init__(self) -> None:
        super().__init__(pool_connections=False)
        self.factory = RequestFactory()

    def request(self, method: str, url: str, params=None, data=None, headers=None, auth=None,
                timeout: float | None = None, allow_redirects: bool = False) -> Response:
        parts = urlsplit(url)
        query = "&".join(q for q in (parts.query, urlencode(params or {}, doseq=True)) if q)
        meta = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in (headers or {}).items()
                if name.lower() != "content-type"}
        if auth:
            meta["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
        content_type = (headers or {}).get("Content-Type", "application/x-www-form-urlencoded")
        body = json.dumps(data) if content_type == "application/json" else urlencode(data or {}, doseq=True)
        request = self.factory.generic(method.upper(), f"{parts.path}?{query}" if query else parts.path,
                                       data=body, content_type=content_type, **meta)
        response = self._dispatch(parts.hostname, parts.path, request)
        if response.get(FAULT_HEADER) == "timeout":
            raise requests.exceptions.ReadTimeout(
                f"HTTPSConnectionPool(host='{API_HOST}', port=443): Read timed out. (read timeout={timeout})")
        return Response(response.status_code, response.content.decode("utf-8"), dict(response.items()))

    @staticmethod
    def _dispatch(host: str | None, path: str, request) -> HttpResponse:
        if host not in EMULATED_HOSTS:
            return not_found(path)
        try:
            match = resolve(path, urlconf="sandbox.urls")
        except Resolver404:
            return not_found(path)
        return match.func(request, *match.args, **match.kwargs)
