"""The emulator's REST endpoints: api.twilio.com's 2010-04-01 resources the platform uses.

Reached in-process through `sandbox.client.SandboxHttpClient`, or over HTTP under
/sandbox/. No Django login and no CSRF: like Twilio, every request authenticates
with HTTP Basic (account SID + auth token, or API key SID + secret).
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from sandbox import inventory, services
from sandbox.auth import authenticated_account
from sandbox.models import SandboxAccount, SandboxFault
from sandbox.selectors import Search, available_offers, page_size_param, paginated
from sandbox.twilio_json import (
    FAULT_HEADER,
    INVALID_PARAMETER,
    TwilioApiError,
    account_json,
    account_path,
    available_json,
    call_json,
    error_response,
    list_envelope,
    list_uri,
    message_json,
    not_found,
    number_json,
    recording_json,
)

NUMBER_KINDS = {"Local": inventory.LOCAL, "TollFree": inventory.TOLL_FREE, "Mobile": inventory.MOBILE}


def _timed_out() -> HttpResponse:
    """What an injected timeout looks like on the wire: the in-process client turns the header
    into requests' ReadTimeout; any other client sees a gateway timeout (a transient 5xx)."""
    response = error_response(504, 20500, "The sandbox was told to time out this request")
    response[FAULT_HEADER] = "timeout"
    return response


def _account_in_url(request: HttpRequest, kwargs: dict[str, str]) -> SandboxAccount | None:
    """2010-04-01 URLs name the account: the credentials must be of that one."""
    return authenticated_account(request, kwargs.pop("account_sid"))


def twilio_endpoint(resource: str, methods: tuple[str, ...],
                    account_of: Callable[[HttpRequest, dict[str, str]], SandboxAccount | None] = _account_in_url
                    ) -> Callable:
    """Basic auth, method check, fault injection and Twilio error bodies around a view.
    `account_of(request, url_kwargs)` is the authenticated account, or None; it takes out of
    the URL's arguments what the view is not to get."""
    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, **kwargs: str) -> HttpResponse:
            account = account_of(request, kwargs)
            if account is None:
                return error_response(401, 20003, "Authenticate")
            if request.method not in methods:
                return error_response(405, 20004, "Method not allowed")
            fault = services.sandbox_fault_take(account=account, resource=resource, method=request.method)
            if fault == SandboxFault.Kind.HTTP_500:
                return error_response(500, 20500, "Internal Server Error")
            if fault == SandboxFault.Kind.TIMEOUT_BEFORE:
                return _timed_out()
            try:
                response = view(request, account, **kwargs)
            except TwilioApiError as exc:
                response = error_response(exc.status, exc.code, exc.message)
            return _timed_out() if fault == SandboxFault.Kind.TIMEOUT_AFTER else response
        return wrapper
    return decorate


def _params(request: HttpRequest) -> dict[str, str]:
    return dict((request.POST if request.method == "POST" else request.GET).items())


def _flag(params: dict[str, str], name: str) -> bool | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() not in ("true", "false"):
        raise TwilioApiError(400, INVALID_PARAMETER, f"{name} must be true or false")
    return raw.lower() == "true"


@twilio_endpoint("Accounts", ("GET",))
def account_detail(request: HttpRequest, account: SandboxAccount) -> HttpResponse:
    return JsonResponse(account_json(account))


@twilio_endpoint("AvailablePhoneNumbers", ("GET",))
def available_numbers(request: HttpRequest, account: SandboxAccount, country: str, kind: str) -> HttpResponse:
    path = account_path(account.sid, f"/AvailablePhoneNumbers/{country}/{kind}.json")
    country = country.upper()
    if not inventory.sells(country):
        return not_found(path)
    params = _params(request)
    search = Search(country=country, number_type=NUMBER_KINDS[kind], area_code=params.get("AreaCode", ""),
                    contains=params.get("Contains", ""), in_region=params.get("InRegion", ""),
                    sms=_flag(params, "SmsEnabled"), voice=_flag(params, "VoiceEnabled"),
                    mms=_flag(params, "MmsEnabled"), page_size=page_size_param(params.get("PageSize")))
    offers = available_offers(search)
    query = [(k, v) for k, v in params.items() if k not in ("Page", "PageToken")]
    uri = list_uri(path, query)
    # Twilio answers a number search in one page, without next or previous pages.
    return JsonResponse({
        "available_phone_numbers": [available_json(offer) for offer in offers],
        "end": max(len(offers) - 1, 0), "first_page_uri": uri, "next_page_uri": None, "page": 0,
        "page_size": search.page_size, "previous_page_uri": None, "start": 0, "uri": uri,
    })


def _phone_number_filter(value: str) -> dict[str, str]:
    """IncomingPhoneNumbers' PhoneNumber filter: partial numbers, `*` for any digit."""
    if "*" not in value:
        return {"phone_number__contains": value}
    return {"phone_number__regex": "".join("[0-9]" if ch == "*" else re.escape(ch) for ch in value)}


@twilio_endpoint("IncomingPhoneNumbers", ("GET", "POST"))
def incoming_numbers(request: HttpRequest, account: SandboxAccount) -> HttpResponse:
    if request.method == "POST":
        number = services.sandbox_number_purchase(account=account, params=_params(request))
        return JsonResponse(number_json(number), status=201)
    params = _params(request)
    numbers = account.numbers.all()
    filters = [(name, params[name]) for name in ("PhoneNumber", "FriendlyName") if params.get(name)]
    for name, value in filters:
        numbers = numbers.filter(**(_phone_number_filter(value) if name == "PhoneNumber"
                                    else {"friendly_name": value}))
    page = paginated(numbers, params)
    return JsonResponse(list_envelope(
        key="incoming_phone_numbers", items=[number_json(n) for n in page.items],
        path=account_path(account.sid, "/IncomingPhoneNumbers.json"), filters=filters, page=page.page,
        page_size=page.page_size, next_token=page.next_token))


@twilio_endpoint("IncomingPhoneNumbers", ("GET", "POST", "DELETE"))
def incoming_number(request: HttpRequest, account: SandboxAccount, sid: str) -> HttpResponse:
    number = account.numbers.filter(sid=sid).first()
    if number is None:
        return not_found(account_path(account.sid, f"/IncomingPhoneNumbers/{sid}.json"))
    if request.method == "DELETE":
        services.sandbox_number_release(number=number)
        return HttpResponse(status=204)
    if request.method == "POST":
        number = services.sandbox_number_update(number=number, params=_params(request))
    return JsonResponse(number_json(number))


@twilio_endpoint("Messages", ("GET", "POST"))
def messages(request: HttpRequest, account: SandboxAccount) -> HttpResponse:
    if request.method == "POST":
        message = services.sandbox_message_create(account=account, params=_params(request),
                                                  media_urls=request.POST.getlist("MediaUrl"))
        return JsonResponse(message_json(message), status=201)
    params = _params(request)
    found = account.messages.all()
    filters = [(name, params[name]) for name in ("To", "From") if params.get(name)]
    for name, value in filters:
        found = found.filter(**{"to" if name == "To" else "from_number": value})
    page = paginated(found, params, newest_first=True)
    return JsonResponse(list_envelope(
        key="messages", items=[message_json(m) for m in page.items],
        path=account_path(account.sid, "/Messages.json"), filters=filters, page=page.page,
        page_size=page.page_size, next_token=page.next_token))


@twilio_endpoint("Calls", ("POST",))
def call_recording(request: HttpRequest, account: SandboxAccount, call_sid: str, recording_sid: str) -> HttpResponse:
    call = services.sandbox_call_recording_update(account=account, call_sid=call_sid, recording_sid=recording_sid,
                                                  params=_params(request))
    return JsonResponse(recording_json(call))


@twilio_endpoint("Calls", ("POST",))
def calls(request: HttpRequest, account: SandboxAccount) -> HttpResponse:
    call, caller = services.sandbox_call_create(account=account, params=_params(request))
    return JsonResponse(call_json(call, caller), status=201)
