"""The HTTP client the twilio SDK sends through, with our timeout and an optional base URL.

The SDK has no base-URL setting: it always builds absolute `https://<product>.twilio.com/...`
URLs (next-page URLs included) and hands them to `http_client.request()`. Rewriting scheme
and host there is the one place that covers every request, so a Twilio-compatible API
(SignalWire, Somleng, a local Prism mock, this project's own `/sandbox/` emulator) can be
used with the unmodified SDK.

The base URL is the tenant's choice, and every request carries the connection's credentials, so
the session sends only through core.outbound's guard: https to public addresses (or hosts the
operator allows), checked when connecting. Twilio's own API passes like any public host.
"""
from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response

from core import outbound
from providers.base import MediaStream

CHUNK_SIZE = 64 * 1024
# A redirect from the API (to where the provider keeps the file) is followed this many times at most.
MAX_REDIRECTS = 3


def is_twilio_host(host: str | None) -> bool:
    return bool(host) and (host == "twilio.com" or host.endswith(".twilio.com"))


class ProviderHttpClient(TwilioHttpClient):
    """`TwilioHttpClient` that gives up after `timeout` seconds and can talk to another host.

    `base_url` may carry a path prefix: with `http://127.0.0.1:8000/sandbox`,
    `https://api.twilio.com/2010-04-01/Accounts.json` goes to
    `http://127.0.0.1:8000/sandbox/2010-04-01/Accounts.json`.
    """

    def __init__(self, base_url: str | None = None, *, timeout: float | None = None) -> None:
        super().__init__(timeout=timeout)  # pool_connections: one session, which carries the guard
        outbound.guard_session(self.session, pool_maxsize=min(32, (os.cpu_count() or 1) + 4))
        self.base = None
        if base_url:
            base = urlsplit(base_url)
            if base.scheme not in ("http", "https") or not base.netloc:
                raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
            self.base = base

    def rewrite(self, url: str) -> str:
        parts = urlsplit(url)
        if self.base is None or not is_twilio_host(parts.hostname):
            return url
        path = self.base.path.rstrip("/") + parts.path
        return urlunsplit((self.base.scheme, self.base.netloc, path, parts.query, parts.fragment))

    def stream(self, url: str, *, headers: dict[str, str], auth: tuple[str, str]) -> MediaStream:
        """GET `url` (rewritten to the base URL) without reading the body: the answer's chunks are read
        as they are consumed. Redirects are followed (through the guard; the credentials are only
        sent to the API's own host, as requests drops them when the host changes)."""
        self.session.max_redirects = MAX_REDIRECTS  # the SDK's own requests never follow redirects
        # identity: the bytes as stored, so Content-Length and Content-Range stay true when passed on.
        response = self.session.get(self.rewrite(url), headers={**headers, "Accept-Encoding": "identity"},
                                    auth=auth, stream=True, timeout=self.timeout, allow_redirects=True)
        length = response.headers.get("Content-Length")
        return MediaStream(status=response.status_code, chunks=response.iter_content(CHUNK_SIZE),
                           close=response.close,
                           content_type=response.headers.get("Content-Type", "application/octet-stream"),
                           content_length=int(length) if length and length.isdigit() else None,
                           content_range=response.headers.get("Content-Range", ""),
                           accept_ranges=response.headers.get("Accept-Ranges", ""))

    def request(self, method: str, url: str, params=None, data=None, headers=None, auth=None,
                timeout: float | None = None, allow_redirects: bool = False) -> Response:
        return super().request(method, self.rewrite(url), params=params, data=data, headers=headers,
                               auth=auth, timeout=timeout, allow_redirects=allow_redirects)
