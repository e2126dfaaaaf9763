"""The transport half of the providers that speak plain JSON over HTTP (Plivo, Telnyx).

Every failure comes out as a ProviderError: unreachable → unavailable (503); no answer in
time, or a connection that broke off after a request that changes something was sent →
outcome_unknown, since it may have taken effect; an error answer → whatever the provider's
own `from_answer` makes of it (`error_for_status`, with the provider's way of reading its body).
Every connection failure has the same message ("… could not be reached").

Clients are made with `client()`: httpx through core.outbound's guard (https to public
addresses, checked when connecting), as every request carries the account's credentials.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import httpx

from core import outbound
from providers.base import BAD_RESPONSE, CONNECTION_FAILED, DESTINATION_REFUSED, TIMEOUT, ProviderError

# Our own codes for the answers a provider sent no code with.
AUTHENTICATION_FAILED = "authentication_failed"
NOT_FOUND = "not_found"


def error_for_status(response: httpx.Response, *, provider: str, rejected: str,
                     reason: Callable[[Any], tuple[str | None, str | None]], rate_limited: str | None = None,
                     server_error: str | None = None, refused: str | None = None) -> ProviderError:
    """An error answer as a ProviderError: the HTTP status says what retrying would do (401/403
    bad credentials and 404 are permanent, 429 and 5xx transient, any other refusal permanent);
    `reason(body)` gives the provider's own code and message, if its body has them. `rejected`
    leads the message of a credentials refusal; the other arguments are the codes used when the
    provider gave none."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    code, message = reason(body)
    message = str(message or response.reason_phrase or f"HTTP {status}")
    error = functools.partial(ProviderError, provider=provider, status=status)
    if status in (401, 403):
        return error(f"{rejected}: {message}", code=code or AUTHENTICATION_FAILED, permanent=True)
    if status == 404:
        return error(message, code=code or NOT_FOUND, permanent=True)
    if status == 429:
        return error(message, code=code or rate_limited)
    if status >= 500:
        return error(message, code=code or server_error)
    return error(message, code=code or refused, permanent=True)


def client(**kwargs: Any) -> httpx.Client:
    """An httpx.Client for a provider's API, through the outbound guard unless `transport` is
    given (tests hand in an httpx.MockTransport)."""
    return outbound.httpx_client(**kwargs)


def json_request(http: httpx.Client, method: str, path: str, *, provider: str, display_name: str,
                 from_answer: Callable[[httpx.Response], ProviderError], params: Any = None,
                 json: dict[str, Any] | None = None) -> dict[str, Any]:
    mutating = method != "GET"
    error = functools.partial(ProviderError, provider=provider)

    unreachable = f"{display_name} could not be reached"
    try:
        response = http.request(method, path, params=params, json=json)
    except outbound.OutboundRefused as exc:
        raise error(f"{unreachable}: {exc.message}", code=DESTINATION_REFUSED, permanent=True) from exc
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise error(unreachable, code=CONNECTION_FAILED, unavailable=True) from exc
    except httpx.TimeoutException as exc:
        raise error(f"{display_name} did not answer in time", code=TIMEOUT, outcome_unknown=mutating) from exc
    except httpx.TransportError as exc:
        # The same message as a refused connection: the answer must not tell a closed port from
        # one where something that is not the provider listens.
        raise error(unreachable, code=CONNECTION_FAILED, unavailable=not mutating,
                    outcome_unknown=mutating) from exc
    if response.is_error:
        raise from_answer(response)
    if not response.content:
        return {}
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise error(f"{display_name} answered with something that is not a JSON object", code=BAD_RESPONSE,
                    status=response.status_code, outcome_unknown=mutating)
    return body
