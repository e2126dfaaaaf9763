"""OpenAI (or an OpenAI-compatible endpoint such as Azure OpenAI) as an AI connection: `openai-realtime`.

Credentials: `apiKey` (stored encrypted, never returned). Public configuration: `baseUrl`, optional,
for Azure OpenAI (`https://<resource>.openai.azure.com/openai/v1`) or another compatible API; it is
a tenant-chosen URL, so it passes the outbound guard (core.outbound) when saved and on each request.
The key is checked before the connection is saved (a models list through the official SDK).

The realtime voice session is the media gateway's (phones.agents.gateway*); it reads the same
credentials through `client_settings`. Text replies (text agents) use chat completions here.
"""
from __future__ import annotations

import logging
import socket
from urllib.parse import urlsplit

import httpx
import openai
from rest_framework import serializers

from core import outbound
from core.serializers import StrictSerializer
from providers.base import (
    AI,
    BAD_RESPONSE,
    CONNECTION_FAILED,
    DESTINATION_REFUSED,
    TIMEOUT,
    AccountInfo,
    AIService,
    ProviderError,
    ProviderKind,
    TextTurn,
    not_a_phone_provider,
)
from providers.twilio.kind import public_url

logger = logging.getLogger(__name__)

TYPE = "openai-realtime"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
REQUEST_TIMEOUT = 15.0
# The model text agents answer with (the agent's own `model` is a realtime voice model).
DEFAULT_TEXT_MODEL = "gpt-4.1-mini"


class OpenAICredentialsSerializer(StrictSerializer):
    apiKey = serializers.CharField(max_length=400, trim_whitespace=True,
                                   help_text="The API key (OpenAI's, or the Azure resource's). Never returned.")


class OpenAIPublicConfigSerializer(StrictSerializer):
    baseUrl = serializers.URLField(
        required=False, allow_blank=True, max_length=500, validators=[public_url],
        help_text="An OpenAI-compatible API (Azure OpenAI: https://<resource>.openai.azure.com/openai/v1): https on "
                  "a public address (or a host the operator allows). Default: OpenAI's own. Changing it needs the "
                  "credentials in the same request.")


def client_settings(credentials: dict, public_config: dict) -> dict:
    """What the SDK's client is made with: {"api_key", "base_url"}; the gateway builds its realtime
    client from the same."""
    return {"api_key": credentials.get("apiKey", ""), "base_url": public_config.get("baseUrl") or DEFAULT_BASE_URL}


def _guarded_httpx2_client() -> object | None:
    """An httpx2 client (the openai SDK's HTTP library from 3.x) that, like core.outbound's httpx
    transport, checks each request's URL and connects only to checked addresses of its host."""
    try:
        import httpcore2
        import httpx2
    except ImportError:
        return None

    class GuardedBackend(httpcore2.SyncBackend):
        def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
            try:
                addresses = outbound.checked_addresses(host, port)
            except socket.gaierror as exc:
                raise httpcore2.ConnectError(str(exc)) from exc
            error: Exception = httpcore2.ConnectError(f"no address for {host}")
            for address in addresses:
                try:
                    return super().connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                               socket_options=socket_options)
                except httpcore2.ConnectError as exc:
                    error = exc
            raise error

    class GuardedTransport(httpx2.HTTPTransport):
        def __init__(self, **kwargs) -> None:
            super().__init__(**kwargs)
            self._pool._network_backend = GuardedBackend()

        def handle_request(self, request):
            outbound.check_url(str(request.url))
            return super().handle_request(request)

    return httpx2.Client(transport=GuardedTransport(), timeout=REQUEST_TIMEOUT, trust_env=False)


def http_client() -> object | None:
    """The HTTP client the SDK sends through: one whose every connection passes the outbound guard,
    for the HTTP library the installed SDK is built on (httpx, or httpx2 from openai 3.x); None
    (the SDK's own, after a check of the host's current addresses) for another."""
    if issubclass(openai.DefaultHttpxClient, httpx.Client):
        return outbound.httpx_client(timeout=REQUEST_TIMEOUT)
    return _guarded_httpx2_client()


def _error(message: str, **kw) -> ProviderError:
    return ProviderError(message, provider=TYPE, **kw)


def client(credentials: dict, public_config: dict) -> openai.OpenAI:
    settings_ = client_settings(credentials, public_config)
    base_url = settings_["base_url"]
    try:
        outbound.check_url(base_url)
        guarded = http_client()
        if guarded is None:  # an SDK not built on httpx: at least every address the name has now is checked
            parts = urlsplit(base_url)
            outbound.checked_addresses(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
    except outbound.OutboundRefused as exc:
        raise _refused(exc) from exc
    except OSError as exc:
        raise _error(f"{urlsplit(base_url).hostname} cannot be resolved", code=CONNECTION_FAILED) from exc
    return openai.OpenAI(api_key=settings_["api_key"], base_url=base_url, http_client=guarded,
                         timeout=REQUEST_TIMEOUT, max_retries=0)


def _refused(exc: outbound.OutboundRefused) -> ProviderError:
    return _error(f"Not a destination we send the key to: {exc.message}", code=DESTINATION_REFUSED, permanent=True)


def _translate(exc: openai.OpenAIError) -> ProviderError:
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__
        while cause is not None and not isinstance(cause, outbound.OutboundRefused):
            cause = cause.__cause__
        if isinstance(cause, outbound.OutboundRefused):
            return _refused(cause)
        if isinstance(exc, openai.APITimeoutError):
            return _error("The AI endpoint did not answer in time", code=TIMEOUT)
        return _error("The AI endpoint cannot be reached", code=CONNECTION_FAILED, unavailable=True)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status in (401, 403):
            return _error("The AI endpoint refused this API key", code=status, permanent=True, status=status)
        if status == 404:
            return _error("No OpenAI-compatible API at this base URL (or the model does not exist)", code=404,
                          permanent=True, status=404)
        return _error(f"The AI endpoint answered {status}", code=status, status=status, permanent=400 <= status < 500
                      and status != 429)
    return _error(f"The AI endpoint's answer could not be read: {exc}", code=BAD_RESPONSE)


def check(credentials: dict, public_config: dict) -> AccountInfo:
    """The key opens this endpoint (a models list); raises ProviderError otherwise."""
    with client(credentials, public_config) as api:
        try:
            api.models.list()
        except openai.OpenAIError as exc:
            raise _translate(exc) from exc
        except outbound.OutboundRefused as exc:  # raised by the guarded transport, not wrapped by every SDK
            raise _refused(exc) from exc
    host = urlsplit(client_settings(credentials, public_config)["base_url"]).hostname or ""
    return AccountInfo(account_id=host[:64], friendly_name=host)


def text_reply(credentials: dict, public_config: dict, *, instructions: str, history: list[TextTurn],
               model: str = DEFAULT_TEXT_MODEL) -> str:
    """The assistant's next text in the conversation (chat completions); ProviderError when it fails."""
    messages: list[dict] = [{"role": "system", "content": instructions}] if instructions else []
    messages += [{"role": "assistant" if turn.role == "assistant" else "user", "content": turn.text}
                 for turn in history]
    with client(credentials, public_config) as api:
        try:
            completion = api.chat.completions.create(model=model, messages=messages, max_tokens=300)
        except openai.OpenAIError as exc:
            raise _translate(exc) from exc
        except outbound.OutboundRefused as exc:
            raise _refused(exc) from exc
    try:
        return (completion.choices[0].message.content or "").strip()
    except (AttributeError, IndexError) as exc:
        raise _error("The AI endpoint's answer had no reply", code=BAD_RESPONSE) from exc


KIND = ProviderKind(type=TYPE, label="OpenAI Realtime (or a compatible API)", webhooks="", build=not_a_phone_provider,
                    credentials=OpenAICredentialsSerializer, public_config=OpenAIPublicConfigSerializer,
                    category=AI, ai=AIService(check=check, text_reply=text_reply))
