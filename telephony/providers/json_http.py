"""The transport half of the providers that speak plain JSON over HTTP (Plivo, Telnyx).

Every failure comes out as a ProviderError: unreachable → unavailable (503); no answer in
time, or a connection that broke off after a request that changes something was sent →
outcome_unknown, since it may have taken effect; an error answer → whatever the provider's
own `from_answer` makes of it.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from telephony.providers.base import ProviderError

TIMEOUT = "timeout"
CONNECTION_FAILED = "connection_failed"
BAD_RESPONSE = "bad_response"


def json_request(http: httpx.Client, method: str, path: str, *, provider: str, display_name: str,
                 from_answer: Callable[[httpx.Response], ProviderError], params: Any = None,
                 json: dict[str, Any] | None = None) -> dict[str, Any]:
    mutating = method != "GET"

    def error(message: str, **kwargs: Any) -> ProviderError:
        return ProviderError(message, provider=provider, **kwargs)

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
