"""The transport half of the providers that speak plain JSON over HTTP (Plivo, Telnyx).

Every failure comes out as a ProviderError: unreachable → unavailable (503); no answer in
time, or a connection that broke off after a request that changes something was sent →
outcome_unknown, since it may have taken effect; an error answer → whatever the provider's
own `from_answer` makes of it (`error_for_status`, with the provider's way of reading its body).
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import httpx

from providers.base import BAD_RESPONSE, CONNECTION_FAILED, TIMEOUT, ProviderError

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


def json_request(http: httpx.Client, method: str, path: str, *, provider: str, display_name: str,
                 from_answer: Callable[[httpx.Response], ProviderError], params: Any = None,
                 json: dict[str, Any] | None = None) -> dict[str, Any]:
    mutating = method != "GET"
    error = functools.partial(ProviderError, provider=provider)

    try:
        response = http.request(method, path, params=params, json=json)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise error(f"{display_name} could not be reached", code=CONNECTION_FAILED, unavailable=True) from exc
    except httpx.TimeoutException as exc:
        raise error(f"{display_name} did not answer in time", code=TIMEOUT, outcome_unknown=mutating) from exc
    except httpx.TransportError as exc:
        raise error(f"The connection to {display_name} broke off: {exc}", code=CONNECTION_FAILED,
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
