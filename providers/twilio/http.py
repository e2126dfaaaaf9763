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

    def request(self, method: str, url: str, params=None, data=None, headers=None, auth=None,
                timeout: float | None = None, allow_redirects: bool = False) -> Response:
        return super().request(method, self.rewrite(url), params=params, data=data, headers=headers,
                               auth=auth, timeout=timeout, allow_redirects=allow_redirects)
