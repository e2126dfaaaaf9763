"""`PhoneProvider` on Plivo's REST API (v1), through a small httpx client.

Not the official `plivo` SDK: it is maintained, but it is a Python-2-era design (six,
decorator, lxml, PyJWT) around the same dozen JSON endpoints we call here, and its errors
would need translating anyway. One client per instance, built with that connection's Auth ID
and Auth Token; no module-level client.

Plivo has no per-number webhook URLs: a number is attached to an *application* that carries
the answer (voice), message (SMS) and hangup (status) URLs. We attach numbers to an application
named for the URLs it carries, created the first time and reused after.
"""
from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import hmac
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import httpx
from django.conf import settings

from providers.base import (
    BAD_RESPONSE,
    AccountInfo,
    AvailableNumber,
    Capabilities,
    MessagingService,
    OwnedPage,
    PhoneProvider,
    PlacedCall,
    ProviderError,
    ProvisionedNumber,
    SearchCriteria,
    SentMessage,
    Webhooks,
    unless_gone,
)
from providers.http import client as http_client
from providers.http import error_for_status, json_request
from providers.plivo import consts

AUTH_ID = re.compile(r"[A-Za-z0-9]{1,64}")
RESOURCE_ID = re.compile(r"[A-Za-z0-9-]{1,64}")


_error = functools.partial(ProviderError, provider=consts.PROVIDER_NAME)


def _reason(body: Any) -> tuple[None, Any]:
    """Plivo sends no error code, only `{"error": ...}`."""
    return None, body.get("error") if isinstance(body, dict) else None


# A Plivo error answer as a ProviderError: the status says what retrying would do.
_from_answer = functools.partial(
    error_for_status, provider=consts.PROVIDER_NAME, rejected="Plivo rejected the credentials", reason=_reason,
    rate_limited=consts.RATE_LIMITED, server_error=consts.SERVER_ERROR, refused=consts.INVALID_REQUEST)


def _number_path(number: str) -> str:
    """Plivo names a number by its digits, without '+'; anything else must not reach the URL path."""
    digits = number.lstrip("+")
    if not digits.isdigit():
        raise ValueError(f"not a phone number: {number!r}")
    return f"Number/{digits}/"


# Plivo's recording and call ids are UUIDs.
PLIVO_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def e164(number: str) -> str:
    """A number as Plivo writes it (digits, no `+`) in E.164; anything else (empty, a SIP URI) as is."""
    number = number.strip()
    return f"+{number}" if number.isdigit() else number


def _provisioned(raw: dict[str, Any]) -> ProvisionedNumber:
    # "application" is the attached application's resource URI: .../Application/<app_id>/
    app_id = (raw.get("application") or "").rstrip("/").rsplit("/", 1)[-1]
    return ProvisionedNumber(
        sid=str(raw["number"]),
        e164=e164(str(raw["number"])),
        friendly_name=raw.get("alias") or "",
        capabilities=Capabilities(voice=bool(raw.get("voice_enabled")), sms=bool(raw.get("sms_enabled")),
                                  mms=bool(raw.get("mms_enabled"))),
        voice_application_sid=app_id,
        sms_application_sid=app_id,
    )


def _with_application(number: ProvisionedNumber, app: dict[str, Any]) -> ProvisionedNumber:
    """The number's URLs are its application's."""
    return dataclasses.replace(
        number,
        voice_url=app.get("answer_url") or "", voice_method=app.get("answer_method") or "",
        voice_fallback_url=app.get("fallback_answer_url") or "",
        sms_url=app.get("message_url") or "", sms_method=app.get("message_method") or "",
        status_callback=app.get("hangup_url") or "", status_callback_method=app.get("hangup_method") or "",
        voice_application_sid=str(app["app_id"]), sms_application_sid=str(app["app_id"]),
    )


def _application_fields(webhooks: Webhooks) -> dict[str, str]:
    fields = {
        "answer_url": webhooks.voice_url, "answer_method": webhooks.voice_method,
        "message_url": webhooks.sms_url, "message_method": webhooks.sms_method,
        "hangup_url": webhooks.status_callback, "hangup_method": webhooks.status_callback_method,
        "fallback_answer_url": webhooks.voice_fallback_url, "fallback_method": webhooks.voice_method,
    }
    # An empty URL means "not ours to set"; Plivo would reject it as an invalid URL.
    url_of = {"answer_method": "answer_url", "message_method": "message_url", "hangup_method": "hangup_url",
              "fallback_method": "fallback_answer_url"}
    return {k: v for k, v in fields.items() if fields[url_of.get(k, k)]}


def application_name(webhooks: Webhooks) -> str:
    """Named for the URLs it carries: the same URLs reuse one application, other URLs (another
    deployment sharing the Plivo account) get their own."""
    urls = f"{webhooks.voice_url}\n{webhooks.voice_fallback_url}\n{webhooks.sms_url}\n{webhooks.status_callback}"
    return f"{consts.APPLICATION_NAME_PREFIX}-{hashlib.sha256(urls.encode()).hexdigest()[:16]}"


def _sorted_query(params: dict[str, list[str]]) -> str:
    return "&".join(f"{key}={value}" for key in sorted(params) for value in sorted(params[key]))


def _sorted_params(params: dict[str, list[str]]) -> str:
    return "".join(f"{key}{value}" for key in sorted(params) for value in sorted(params[key]))


# The bodies Plivo's V3 signature covers (field by field); any other body is refused.
FORM_CONTENT_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def signature_v3(auth_token: str, method: str, url: str, nonce: str, params: dict[str, list[str]]) -> str:
    """Plivo's V3 signature: HMAC-SHA256 with the auth token, base64, over
    `<url>.<nonce>` where a GET's url carries all parameters as a sorted query string and a
    POST's url is followed by `?<sorted query>.` (the dot only with a query) and the sorted
    form parameters written as name+value with no separators."""
    parts = urlsplit(url)
    base = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    query = parse_qs(parts.query, keep_blank_values=True)
    if method.upper() == "GET":
        query_string = _sorted_query({**params, **query})
        signed = f"{base}?{query_string}" if query_string else base
    elif params:
        query_string = _sorted_query(query)
        signed = f"{base}?{query_string}{'.' if query_string else ''}{_sorted_params(params)}"
    else:
        query_string = _sorted_query(query)
        signed = f"{base}?{query_string}" if query_string else base
    digest = hmac.new(auth_token.encode(), f"{signed}.{nonce}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class PlivoProvider(PhoneProvider):
    """One Plivo account (main or subaccount), authenticated with its Auth ID and Auth Token."""

    name = consts.PROVIDER_NAME
    markup_by_url = True

    def __init__(self, *, auth_id: str, auth_token: str, transport: httpx.BaseTransport | None = None) -> None:
        if not auth_token or not AUTH_ID.fullmatch(auth_id or ""):
            raise _error("Plivo needs an Auth ID and an Auth Token", code="missing_credentials", permanent=True)
        self.auth_id = auth_id
        self.auth_token = auth_token
        self.http = http_client(base_url=f"{consts.API_BASE}/v1/Account/{auth_id}/", auth=(auth_id, auth_token),
                                timeout=settings.PROVIDER_TIMEOUT, transport=transport)
        # Our applications by name, once found or created: configuring many numbers with the
        # same URLs lists the applications once, not once per number.
        self._applications: dict[str, dict[str, Any]] = {}

    def _request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                 json: dict[str, Any] | None = None) -> dict[str, Any]:
        return json_request(self.http, method, path, provider=consts.PROVIDER_NAME, display_name="Plivo",
                            from_answer=_from_answer, params=params, json=json)

    def validate_credentials(self) -> AccountInfo:
        account = self._request("GET", "")
        return AccountInfo(account_id=account.get("auth_id") or self.auth_id, friendly_name=account.get("name") or "",
                           status=account.get("account_type") or "")

    def search_available(self, criteria: SearchCriteria) -> list[AvailableNumber]:
        wanted = {"voice": criteria.voice_enabled, "sms": criteria.sms_enabled, "mms": criteria.mms_enabled}
        params: dict[str, Any] = {"country_iso": criteria.country, "type": consts.SEARCH_TYPES[criteria.number_type],
                                  "limit": min(criteria.limit, consts.MAX_PAGE_SIZE)}
        # `pattern` matches the start of the national number; Plivo has no "contains" filter,
        # so a contains-only search is narrowed here instead.
        if criteria.area_code:
            params["pattern"] = criteria.area_code
        if criteria.region:
            params["region"] = criteria.region
        services = [name for name, enabled in wanted.items() if enabled]
        if services:
            params["services"] = ",".join(services)
        # 404: nothing of this kind sold in this country
        body = unless_gone(lambda: self._request("GET", "PhoneNumber/", params=params), default={})
        found = []
        for raw in body.get("objects") or []:
            number = str(raw.get("number") or "")
            if not number or (criteria.contains and criteria.contains not in number):
                continue
            found.append(AvailableNumber(
                e164=e164(number), friendly_name=e164(number), country=criteria.country,
                locality=raw.get("city") or raw.get("rate_center") or "", region=raw.get("region") or "",
                capabilities=Capabilities(voice=bool(raw.get("voice_enabled")), sms=bool(raw.get("sms_enabled")),
                                          mms=bool(raw.get("mms_enabled"))),
            ))
        return found

    def purchase(self, e164: str, webhooks: Webhooks, *, friendly_name: str = "") -> ProvisionedNumber:
        path = _number_path(e164)
        app = self._application_for(webhooks)
        # Buying is PhoneNumber/<digits>/; the bought number is then Number/<digits>/.
        answer = self._request("POST", f"Phone{path}", json={"app_id": app["app_id"]})
        if answer.get("status") != consts.PURCHASE_FULFILLED:
            # Numbers that need the buyer's documents are accepted but not yet ours: the job
            # retries and finds the number once Plivo fulfils the order.
            raise _error(f"Plivo accepted the purchase of {e164} but has not fulfilled it ({answer.get('status')})",
                         code=consts.PURCHASE_PENDING, outcome_unknown=True)
        if friendly_name:
            self._request("POST", path, json={"alias": friendly_name})
        owned = self.find_owned(e164)
        if owned is None:
            owned = ProvisionedNumber(sid=e164.lstrip("+"), e164=e164, friendly_name=friendly_name)
        return _with_application(owned, app)

    def find_owned(self, e164: str) -> ProvisionedNumber | None:
        path = _number_path(e164)
        return unless_gone(lambda: _provisioned(self._request("GET", path)))

    def list_owned(self, page: str | None = None, page_size: int = consts.MAX_PAGE_SIZE) -> OwnedPage:
        """Plivo pages by offset; the next-page token is that offset. At most 20 a page."""
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        if page is not None and not page.isdigit():
            raise ValueError("not a next-page token of Plivo numbers")
        offset, limit = int(page or 0), min(page_size, consts.MAX_PAGE_SIZE)
        body = self._request("GET", "Number/", params={"limit": limit, "offset": offset})
        numbers = [_provisioned(raw) for raw in body.get("objects") or []]
        more = bool((body.get("meta") or {}).get("next")) and bool(numbers)
        return OwnedPage(numbers=numbers, next_page=str(offset + len(numbers)) if more else None)

    def _pages(self, path: str) -> Iterator[dict[str, Any]]:
        """The objects of an offset-paged list, a page requested only when the one before is used
        up, and at most MAX_APPLICATION_PAGES pages."""
        for page in range(consts.MAX_APPLICATION_PAGES):
            body = self._request("GET", path, params={"limit": consts.MAX_PAGE_SIZE,
                                                      "offset": page * consts.MAX_PAGE_SIZE})
            yield from body.get("objects") or []
            if not (body.get("meta") or {}).get("next"):
                return

    def list_messaging_services(self) -> list[MessagingService]:
        """Plivo's sender pools are Powerpacks, each with a number pool. A Powerpack with an
        application takes its numbers' inbound SMS. Plivo links 10DLC campaigns to numbers,
        not to Powerpacks, so no campaigns are reported here."""
        services = []
        for pack in list(self._pages("Powerpack/")):
            pool = (pack.get("number_pool") or "").rstrip("/").rsplit("/", 1)[-1]
            numbers = tuple(e164(str(n["number"])) for n in self._pages(f"NumberPool/{pool}/Number/")
                            if n.get("number")) if RESOURCE_ID.fullmatch(pool) else ()
            services.append(MessagingService(sid=str(pack["uuid"]), friendly_name=pack.get("name") or "",
                                             use_inbound_webhook_on_number=not pack.get("application_id"),
                                             numbers=numbers))
        return services

    def configure_webhooks(self, sid: str, webhooks: Webhooks, *, friendly_name: str | None = None
                           ) -> ProvisionedNumber:
        """Attach the number to our application (created or reused) in one update."""
        path = _number_path(sid)
        app = self._application_for(webhooks)
        fields = {"app_id": app["app_id"]}
        if friendly_name:
            fields["alias"] = friendly_name
        self._request("POST", path, json=fields)
        return _with_application(_provisioned(self._request("GET", path)), app)

    def _application_for(self, webhooks: Webhooks) -> dict[str, Any]:
        """Our application for these URLs: found by name and corrected if edited since, else created."""
        name, fields = application_name(webhooks), _application_fields(webhooks)
        app = self._applications.get(name)
        if app is None or any(app.get(k) != v for k, v in fields.items()):
            app = self._applications[name] = self._find_or_create_application(name, fields)
        return app

    def _find_or_create_application(self, name: str, fields: dict[str, str]) -> dict[str, Any]:
        for app in self._pages("Application/"):
            if app.get("app_name") == name:
                if any(app.get(k) != v for k, v in fields.items()):
                    self._request("POST", f"Application/{app['app_id']}/", json=fields)
                return {**app, **fields}
        created = self._request("POST", "Application/", json={"app_name": name, **fields})
        if not created.get("app_id"):
            raise _error("Plivo created the application but did not say its id", code=BAD_RESPONSE)
        return {"app_name": name, **fields, "app_id": created["app_id"]}

    def delete_recording(self, sid: str) -> None:
        """Plivo's Recording resource (DELETE Account/{auth_id}/Recording/{recording_id}/)."""
        if not PLIVO_UUID.fullmatch(sid or ""):
            raise ValueError(f"not a Plivo recording id: {sid!r}")
        unless_gone(lambda: self._request("DELETE", f"Recording/{sid}/"))  # 404: already gone

    def release(self, sid: str) -> None:
        path = _number_path(sid)
        unless_gone(lambda: self._request("DELETE", path))  # 404: already released, what the caller wanted

    def send_sms(self, *, to: str, body: str, from_: str | None = None,
                 messaging_service_sid: str | None = None, media_urls: list[str] | None = None,
                 status_callback: str | None = None) -> SentMessage:
        """`messaging_service_sid` is Plivo's Powerpack UUID (a pool of sender numbers)."""
        self._check_sender(from_, messaging_service_sid)
        fields: dict[str, Any] = {"dst": to, "text": body}
        if from_:
            fields["src"] = from_
        else:
            fields["powerpack_uuid"] = messaging_service_sid
        if media_urls:
            fields.update(type="mms", media_urls=media_urls)
        if status_callback:
            fields.update(url=status_callback, method="POST")
        answer = self._request("POST", "Message/", json=fields)
        uuids = answer.get("message_uuid") or []
        if not uuids:
            raise _error("Plivo queued the message but did not say its id", code=BAD_RESPONSE,
                         outcome_unknown=True)
        return SentMessage(sid=str(uuids[0]), status="queued", to=to, from_=from_ or "")

    def make_call(self, *, to: str, from_: str, url: str, status_callback: str | None = None) -> PlacedCall:
        """`url` must answer with Plivo XML."""
        fields = {"from": from_, "to": to, "answer_url": url, "answer_method": "POST"}
        if status_callback:
            fields.update(hangup_url=status_callback, hangup_method="POST")
        answer = self._request("POST", "Call/", json=fields)
        if not answer.get("request_uuid"):
            raise _error("Plivo fired the call but did not say its id", code=BAD_RESPONSE,
                         outcome_unknown=True)
        return PlacedCall(sid=str(answer["request_uuid"]), status="queued", to=to, from_=from_)

    def update_call(self, call_sid: str, *, twiml: str | None = None, url: str | None = None,
                    hangup: bool = False) -> None:
        """Ends a live call (DELETE Account/{auth_id}/Call/{call_uuid}/; one already over is not an
        error), or transfers it to new Plivo XML fetched from `url` (Plivo's Transfer Call API:
        POST Account/{auth_id}/Call/{call_uuid}/ with legs=aleg, aleg_url, aleg_method=POST; a
        stream the call was running ends). Plivo takes no markup inline, so `twiml` stays
        unsupported here (`markup_by_url`): the caller serves it at a URL of ours."""
        if not (hangup or url):
            return super().update_call(call_sid, twiml=twiml, hangup=hangup)
        if not PLIVO_UUID.fullmatch(call_sid or ""):
            raise ValueError(f"not a Plivo call id: {call_sid!r}")
        if hangup:
            unless_gone(lambda: self._request("DELETE", f"Call/{call_sid}/"))
        else:
            self._request("POST", f"Call/{call_sid}/", json={"legs": "aleg", "aleg_url": url, "aleg_method": "POST"})
        return None

    def validate_webhook(self, request: Any, url: str) -> bool:
        """True when the Django `request` carries Plivo's V3 signature for `url`, made with our
        auth token. The header may list several signatures (one per active token): any matches."""
        signature = request.headers.get(consts.SIGNATURE_HEADER, "")
        nonce = request.headers.get(consts.NONCE_HEADER, "")
        if not (signature and nonce):
            return False
        if request.method == "POST" and request.content_type not in FORM_CONTENT_TYPES and request.body:
            # V3 signs a POST's form fields: a JSON (or any other) body would go unsigned.
            return False
        params = {key: request.POST.getlist(key) for key in request.POST} if request.method == "POST" else {}
        expected = signature_v3(self.auth_token, request.method, url, nonce, params)
        return any(hmac.compare_digest(expected, candidate.strip()) for candidate in signature.split(","))
