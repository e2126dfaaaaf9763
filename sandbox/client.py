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

from providers.base import MediaStream
from sandbox.twilio_json import FAULT_HEADER, not_found

API_HOST = "api.twilio.com"
# Hosts the emulator answers for; their paths do not overlap (2010-04-01/…, v1/Services…, v1/Trunks…,
# v1/PhoneNumbers…).
EMULATED_HOSTS = (API_HOST, "messaging.twilio.com", "trunking.twilio.com", "pricing.twilio.com")


class SandboxHttpClient(TwilioHttpClient):
    def __init__(self) -> None:
        super().__init__(pool_connections=False)
        self.factory = RequestFactory()

    def stream(self, url: str, *, headers: dict[str, str], auth: tuple[str, str]) -> MediaStream:
        """A GET whose answer is read as it is consumed (a recording's media, generated in chunks)."""
        parts = urlsplit(url)
        request = self._build("GET", parts, None, None, headers, auth)
        response = self._dispatch(parts.hostname, parts.path, request)
        if response.get(FAULT_HEADER) == "timeout":
            raise requests.exceptions.ReadTimeout(f"HTTPSConnectionPool(host='{API_HOST}', port=443): Read timed out.")
        chunks = iter(response.streaming_content if response.streaming else [response.content])
        length = response.get("Content-Length")
        # Not response.close(): that is the end of a request to Django (request_finished), which
        # would close the caller's database connection under it.
        return MediaStream(status=response.status_code, chunks=chunks, close=getattr(chunks, "close", lambda: None),
                           content_type=response.get("Content-Type", "application/octet-stream"),
                           content_length=int(length) if length and length.isdigit() else None,
                           content_range=response.get("Content-Range", ""),
                           accept_ranges=response.get("Accept-Ranges", ""))

    def _build(self, method: str, parts, params, data, headers, auth):
        query = "&".join(q for q in (parts.query, urlencode(params or {}, doseq=True)) if q)
        meta = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in (headers or {}).items()
                if name.lower() != "content-type"}
        if auth:
            meta["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
        content_type = (headers or {}).get("Content-Type", "application/x-www-form-urlencoded")
        body = json.dumps(data) if content_type == "application/json" else urlencode(data or {}, doseq=True)
        return self.factory.generic(method.upper(), f"{parts.path}?{query}" if query else parts.path,
                                    data=body, content_type=content_type, **meta)

    def request(self, method: str, url: str, params=None, data=None, headers=None, auth=None,
                timeout: float | None = None, allow_redirects: bool = False) -> Response:
        parts = urlsplit(url)
        request = self._build(method, parts, params, data, headers, auth)
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
