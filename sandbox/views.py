"""The emulator's REST endpoints: api.twilio.com's 2010-04-01 resources the platform uses.

Reached in-process through `sandbox.client.SandboxHttpClient`, or over HTTP under
/sandbox/. No Django login and no CSRF: like Twilio, every request authenticates
with HTTP Basic (account SID + auth token, or API key SID + secret).
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from sandbox import inventory, services, twilio_json
from sandbox import recordings as sandbox_recordings
from sandbox.auth import account_for_credentials, authenticated_account
from sandbox.models import SandboxAccount, SandboxCall, SandboxFault
from sandbox.selectors import Search, available_offers, page_size_param, paginated
from sandbox.twilio_json import (
    FAULT_HEADER,
    INVALID_PARAMETER,
    NOT_EMULATED,
    SENT_STATUSES,
    TwilioApiError,
    account_json,
    account_path,
    available_json,
    call_json,
    country_json,
    error_response,
    list_envelope,
    list_uri,
    message_json,
    no_content,
    not_found,
    not_found_message,
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


def v1_account(request: HttpRequest, kwargs: dict[str, str]) -> SandboxAccount | None:
    """The v1 APIs' URLs (messaging, trunking, pricing) carry no account: the credentials name it
    (an account SID, or an API key of one)."""
    return account_for_credentials(request)


def v1_meta(root: str, path: str, *, key: str, page: int, page_size: int, more: bool,
            next_token: str | None = None) -> dict:
    """The `meta` of a v1 API's list page, its links on `root` (e.g. https://trunking.twilio.com/v1)."""
    def url(number: int, token: str | None = None) -> str:
        return f"{root}{path}?{urlencode(twilio_json.page_query(page_size, number, token))}"

    return {"page": page, "page_size": page_size, "first_page_url": url(0),
            "previous_page_url": url(page - 1) if page > 0 else None, "url": url(page),
            "next_page_url": url(page + 1, next_token) if more else None, "key": key}


def v1_listing(request: HttpRequest, rows: QuerySet, *, root: str, key: str, path: str,
               render: Callable[[Any], dict]) -> JsonResponse:
    """A v1 API's list page of `rows` (PageSize, Page, PageToken), each `render`ed."""
    page = paginated(rows, dict(request.GET.items()))
    return JsonResponse({key: [render(item) for item in page.items], "meta": v1_meta(
        root, path, key=key, page=page.page, page_size=page.page_size, more=bool(page.next_token),
        next_token=page.next_token)})


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


PAGING = frozenset({"PageSize", "Page", "PageToken"})


def _params(request: HttpRequest, accepted: Iterable[str] = ()) -> dict[str, str]:
    """The request's parameters, each of them one the view applies: any other (documented by Twilio
    but not emulated here, or unknown) is refused with a 400, never silently ignored."""
    params = dict((request.POST if request.method == "POST" else request.GET).items())
    refused = sorted(set(params) - set(accepted))
    if refused:
        raise TwilioApiError(400, NOT_EMULATED, f"The sandbox does not emulate the parameter"
                                                f"{'s' if len(refused) > 1 else ''} {', '.join(refused)}")
    return params


def _flag(params: dict[str, str], name: str) -> bool | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() not in ("true", "false"):
        raise TwilioApiError(400, INVALID_PARAMETER, f"{name} must be true or false")
    return raw.lower() == "true"


def _date_filtered(found: QuerySet, params: dict[str, str], name: str, column: str) -> QuerySet:
    """Twilio's date filters on a list: `Name` (that day, or that instant), `Name<` (on or before)
    and `Name>` (on or after); a date is a day in GMT. `column` None: no row has that date."""
    for suffix, lookup in (("", ""), ("<", "__lte"), (">", "__gte")):
        raw = params.get(name + suffix)
        if raw is None:
            continue
        try:
            day = date.fromisoformat(raw) if len(raw) == 10 else None
            instant = None if day else datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise TwilioApiError(400, INVALID_PARAMETER, f"{name}{suffix} {raw!r} is not a date") from None
        if instant is not None and instant.tzinfo is None:
            instant = instant.replace(tzinfo=UTC)
        if day is not None:
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            end = start + timedelta(days=1)
            bounds = {"": {"__gte": start, "__lt": end}, "__lte": {"__lt": end}, "__gte": {"__gte": start}}[lookup]
        else:
            bounds = {lookup or "__exact": instant}
        found = found.filter(**{f"{column}{op}": value for op, value in bounds.items()})
    return found


def _listed(request: HttpRequest, found: QuerySet, *, key: str, path: str, params: dict[str, str],
            render: Callable, newest_first: bool = False) -> JsonResponse:
    filters = [(name, value) for name, value in params.items() if name not in PAGING]
    page = paginated(found, params, newest_first=newest_first)
    return JsonResponse(list_envelope(key=key, items=[render(item) for item in page.items], path=path,
                                      filters=filters, page=page.page, page_size=page.page_size,
                                      next_token=page.next_token))


def _credentials_account(request: HttpRequest, kwargs: dict[str, str]) -> SandboxAccount | None:
    return account_for_credentials(request)


@csrf_exempt
def unknown(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other path under the emulator: Twilio's 404 body (after its 401, as Twilio checks first)."""
    if account_for_credentials(request) is None:
        return error_response(401, 20003, "Authenticate")
    return not_found(request.path.removeprefix("/sandbox"))


# ---------------------------------------------------------------- Accounts

@twilio_endpoint("Accounts", ("GET",), account_of=_credentials_account)
def accounts(request: HttpRequest, account: SandboxAccount) -> HttpResponse:
    """GET Accounts.json: the credentials' account (the sandbox has no subaccounts)."""
    params = _params(request, {"FriendlyName", "Status", *PAGING})
    found = SandboxAccount.objects.filter(pk=account.pk)
    if "FriendlyName" in params:
        found = found.filter(friendly_name=params["FriendlyName"])
    if "Status" in params:
        found = found.filter(status=params["Status"])
    return _listed(request, found, key="accounts", path="/2010-04-01/Accounts.json", params=params,
                   render=account_json)


@twilio_endpoint("Accounts", ("GET", "POST"))
def account_detail(request: HttpRequest, account: SandboxAccount) -> HttpResponse:
    if request.method == "POST":
        account = services.sandbox_account_update(account=account, params=_params(request, {"FriendlyName", "Status"}))
    else:
        _params(request)
    return JsonResponse(account_json(account))


# ---------------------------------------------------------------- AvailablePhoneNumbers

COUNTRY_NAMES = {"US": "United States", "CA": "Canada", "GB": "United Kingdom", "AU": "Australia"}
AVAILABLE_PARAMS = frozenset({
    "AreaCode", "Contains", "SmsEnabled", "MmsEnabled", "VoiceEnabled", "FaxEnabled", "Beta", "InRegion",
    "InLocality", "InPostalCode", "InRateCenter", "ExcludeAllAddressRequired", "ExcludeLocalAddressRequired",
    "ExcludeForeignAddressRequired", *PAGING})
# NearNumber, NearLatLong, Distance and InLata are refused: the inventory has no coordinates and no LATAs.


def _kinds_sold(country: str) -> tuple[str, ...]:
    return tuple(kind for kind, number_type in NUMBER_KINDS.items()
                 if (country, number_type) in inventory.CATALOGUE and inventory.default_prefixes(country, number_type))


@twilio_endpoint("AvailablePhoneNumbers", ("GET",))
def available_countries(request: HttpRequest, account: SandboxAccount) -> HttpResponse:
    _params(request, PAGING)
    countries = sorted({country for country, _ in inventory.CATALOGUE})
    return JsonResponse({"countries": [country_json(account.sid, c, COUNTRY_NAMES.get(c, c), _kinds_sold(c))
                                       for c in countries],
                         "uri": account_path(account.sid, "/AvailablePhoneNumbers.json")})


@twilio_endpoint("AvailablePhoneNumbers", ("GET",))
def available_country(request: HttpRequest, account: SandboxAccount, country: str) -> HttpResponse:
    _params(request)
    if not inventory.sells(country.upper()):
        return not_found(account_path(account.sid, f"/AvailablePhoneNumbers/{country}.json"))
    country = country.upper()
    return JsonResponse(country_json(account.sid, country, COUNTRY_NAMES.get(country, country), _kinds_sold(country)))


@twilio_endpoint("AvailablePhoneNumbers", ("GET",))
def available_numbers(request: HttpRequest, account: SandboxAccount, country: str, kind: str) -> HttpResponse:
    path = account_path(account.sid, f"/AvailablePhoneNumbers/{country}/{kind}.json")
    country = country.upper()
    if not inventory.sells(country) or kind not in NUMBER_KINDS:
        return not_found(path)
    params = _params(request, AVAILABLE_PARAMS)
    _flag(params, "Beta")  # no number on sale is new to the platform: either value leaves them all in
    exclude = {requirement for name, requirements in (
        ("ExcludeAllAddressRequired", ("any", "local", "foreign")), ("ExcludeLocalAddressRequired", ("local",)),
        ("ExcludeForeignAddressRequired", ("foreign",))) if _flag(params, name) for requirement in requirements}
    search = Search(country=country, number_type=NUMBER_KINDS[kind], area_code=params.get("AreaCode", ""),
                    contains=params.get("Contains", ""), in_region=params.get("InRegion", ""),
                    in_locality=params.get("InLocality", ""), in_postal_code=params.get("InPostalCode", ""),
                    in_rate_center=params.get("InRateCenter", ""),
                    sms=_flag(params, "SmsEnabled"), voice=_flag(params, "VoiceEnabled"),
                    mms=_flag(params, "MmsEnabled"), fax=_flag(params, "FaxEnabled"),
                    exclude_address=frozenset(exclude), page_size=page_size_param(params.get("PageSize")))
    offers = available_offers(search)
    query = [(k, v) for k, v in params.items() if k not in ("Page", "PageToken")]
    uri = list_uri(path, query)
    # Twilio answers a number search in one page, without next or previous pages.
    return JsonResponse({
        "available_phone_numbers": [available_json(offer) for offer in offers],
        "end": max(len(offers) - 1, 0), "first_page_uri": uri, "next_page_uri": None, "page": 0,
        "page_size": search.page_size, "previous_page_uri": None, "start": 0, "uri": uri,
    })


# ---------------------------------------------------------------- IncomingPhoneNumbers

def _phone_number_filter(value: str) -> dict[str, str]:
    """IncomingPhoneNumbers' PhoneNumber filter: partial numbers, `*` for any digit."""
    if "*" not in value:
        return {"phone_number__contains": value}
    return {"phone_number__regex": "".join("[0-9]" if ch == "*" else re.escape(ch) for ch in value)}


def _numbers(request: HttpRequest, account: SandboxAccount, kind: str = "") -> HttpResponse:
    number_type = NUMBER_KINDS[kind] if kind else None
    suffix = f"/{kind}" if kind else ""
    if request.method == "POST":
        params = _params(request, services.NUMBER_CREATE_PARAMS)
        if kind and not params.get("PhoneNumber"):
            raise TwilioApiError(400, 21421, "A PhoneNumber is required")
        number = services.sandbox_number_purchase(account=account, params=params, number_type=number_type)
        return JsonResponse(number_json(number), status=201)
    params = _params(request, {"PhoneNumber", "FriendlyName", "Beta", "Origin", *PAGING})
    numbers = account.numbers.select_related("account")
    if number_type:
        numbers = numbers.filter(number_type=number_type)
    if "PhoneNumber" in params:
        numbers = numbers.filter(**_phone_number_filter(params["PhoneNumber"]))
    if "FriendlyName" in params:
        numbers = numbers.filter(friendly_name=params["FriendlyName"])
    if _flag(params, "Beta") is False:
        pass  # no number here is a beta number: all of them stay
    if params.get("Origin") not in (None, "twilio"):  # every number was bought here ("twilio"), none ported in
        numbers = numbers.none()
    return _listed(request, numbers, key="incoming_phone_numbers", params=params, render=number_json,
                   path=account_path(account.sid, f"/IncomingPhoneNumbers{suffix}.json"))


@twilio_endpoint("IncomingPhoneNumbers", ("GET", "POST"))
def incoming_numbers(request: HttpRequest, account: SandboxAccount) -> HttpResponse:
    return _numbers(request, account)


@twilio_endpoint("IncomingPhoneNumbers", ("GET", "POST"))
def incoming_numbers_of_kind(request: HttpRequest, account: SandboxAccount, kind: str) -> HttpResponse:
    return _numbers(request, account, kind)


@twilio_endpoint("IncomingPhoneNumbers", ("GET", "POST", "DELETE"))
def incoming_number(request: HttpRequest, account: SandboxAccount, sid: str) -> HttpResponse:
    number = account.numbers.filter(sid=sid).first()
    if number is None:
        return not_found(account_path(account.sid, f"/IncomingPhoneNumbers/{sid}.json"))
    if request.method == "DELETE":
        services.sandbox_number_release(number=number)
        return no_content()
    if request.method == "POST":
        number = services.sandbox_number_update(number=number,
                                                params=_params(request, services.NUMBER_UPDATE_PARAMS))
    else:
        _params(request)
    return JsonResponse(number_json(number))


# ---------------------------------------------------------------- Messages

@twilio_endpoint("Messages", ("GET", "POST"))
def messages(request: HttpRequest, account: SandboxAccount) -> HttpResponse:
    if request.method == "POST":
        message = services.sandbox_message_create(account=account,
                                                  params=_params(request, services.MESSAGE_CREATE_PARAMS),
                                                  media_urls=request.POST.getlist("MediaUrl"))
        return JsonResponse(message_json(message), status=201)
    params = _params(request, {"To", "From", "DateSent", "DateSent<", "DateSent>", *PAGING})
    found = account.messages.select_related("account")
    if "To" in params:
        found = found.filter(to=params["To"])
    if "From" in params:
        found = found.filter(from_number=params["From"])
    if any(name in params for name in ("DateSent", "DateSent<", "DateSent>")):
        # date_sent is when a text left: a text never sent (queued, accepted, failed) has none.
        found = _date_filtered(found.filter(status__in=SENT_STATUSES), params, "DateSent", "date_created")
    return _listed(request, found, key="messages", path=account_path(account.sid, "/Messages.json"),
                   params=params, render=message_json, newest_first=True)


@twilio_endpoint("Messages", ("GET", "POST", "DELETE"))
def message(request: HttpRequest, account: SandboxAccount, sid: str) -> HttpResponse:
    found = account.messages.select_related("account").filter(sid=sid).first()
    if found is None:
        return not_found(account_path(account.sid, f"/Messages/{sid}.json"))
    if request.method == "DELETE":
        _params(request)
        services.sandbox_message_delete(message=found)
        return no_content()
    if request.method == "POST":
        found = services.sandbox_message_update(message=found, params=_params(request, {"Body", "Status"}))
    else:
        _params(request)
    return JsonResponse(message_json(found))


# ---------------------------------------------------------------- Calls

def _caller_sids(account: SandboxAccount) -> dict[str, str]:
    return dict(account.numbers.values_list("phone_number", "sid"))


def _call(account: SandboxAccount, sid: str, path: str) -> SandboxCall:
    call = account.calls.select_related("account").filter(sid=sid).first()
    if call is None:
        raise TwilioApiError(404, 20404, not_found_message(account_path(account.sid, path)))
    return call


@twilio_endpoint("Calls", ("GET", "POST"))
def calls(request: HttpRequest, account: SandboxAccount) -> HttpResponse:
    if request.method == "POST":
        call, caller = services.sandbox_call_create(account=account, params=_params(request, CALL_CREATE_PARAMS))
        return JsonResponse(call_json(call, caller), status=201)
    params = _params(request, {"To", "From", "ParentCallSid", "Status", "StartTime", "StartTime<", "StartTime>",
                               "EndTime", "EndTime<", "EndTime>", *PAGING})
    found = account.calls.select_related("account")
    for name, column in (("To", "to"), ("From", "from_number"), ("Status", "status")):
        if name in params:
            found = found.filter(**{column: params[name]})
    if "ParentCallSid" in params:  # the sandbox makes no child calls
        found = found.none()
    if any(name.startswith("StartTime") for name in params):  # never answered: no call has a start time
        found = found.none()
    found = _date_filtered(found, params, "EndTime", "end_time")
    callers = _caller_sids(account)
    return _listed(request, found, key="calls", path=account_path(account.sid, "/Calls.json"), params=params,
                   render=lambda c: call_json(c, callers.get(c.from_number)), newest_first=True)


CALL_CREATE_PARAMS = frozenset({"To", "From", "Url", "Twiml", "ApplicationSid", "Method", "StatusCallback",
                                "StatusCallbackMethod"})


@twilio_endpoint("Calls", ("GET", "POST", "DELETE"))
def call(request: HttpRequest, account: SandboxAccount, sid: str) -> HttpResponse:
    found = _call(account, sid, f"/Calls/{sid}.json")
    if request.method == "DELETE":
        _params(request)
        services.sandbox_call_delete(call=found)
        return no_content()
    if request.method == "POST":
        found = services.sandbox_call_update(call=found, params=_params(request, services.CALL_UPDATE_PARAMS))
    else:
        _params(request)
    return JsonResponse(call_json(found, _caller_sids(account).get(found.from_number)))


# ---------------------------------------------------------------- Recordings (one per call here)

def _recordings(account: SandboxAccount) -> QuerySet:
    return account.calls.select_related("account").exclude(recording_sid="")


def _recording_list(request: HttpRequest, found: QuerySet, params: dict[str, str], path: str,
                    account_level: bool) -> JsonResponse:
    found = _date_filtered(found, params, "DateCreated", "date_created")
    return _listed(request, found, key="recordings", path=path, params=params, newest_first=True,
                   render=lambda c: recording_json(c, account_level=account_level))


@twilio_endpoint("Recordings", ("GET",))
def recordings(request: HttpRequest, account: SandboxAccount) -> HttpResponse:
    params = _params(request, {"DateCreated", "DateCreated<", "DateCreated>", "CallSid", "ConferenceSid",
                               "IncludeSoftDeleted", *PAGING})
    _flag(params, "IncludeSoftDeleted")  # deleting here removes a recording: there is nothing soft-deleted
    found = _recordings(account)
    if "CallSid" in params:
        found = found.filter(sid=params["CallSid"])
    if "ConferenceSid" in params:  # no conferences in the sandbox
        found = found.none()
    return _recording_list(request, found, params, account_path(account.sid, "/Recordings.json"), True)


def _recording(account: SandboxAccount, sid: str, path: str) -> SandboxCall:
    found = _recordings(account).filter(recording_sid=sid).first()
    if found is None:
        raise TwilioApiError(404, 20404, not_found_message(account_path(account.sid, path)))
    return found


@twilio_endpoint("Recordings", ("GET", "DELETE"))
def recording(request: HttpRequest, account: SandboxAccount, sid: str) -> HttpResponse:
    params = _params(request, {"IncludeSoftDeleted"})
    _flag(params, "IncludeSoftDeleted")
    found = _recording(account, sid, f"/Recordings/{sid}.json")
    if request.method == "DELETE":
        services.sandbox_call_recording_delete(call=found)
        return no_content()
    return JsonResponse(recording_json(found, account_level=True))


@twilio_endpoint("Recordings", ("GET",))
def recording_media(request: HttpRequest, account: SandboxAccount, sid: str, extension: str = "") -> HttpResponse:
    """A completed recording's audio (WAV without an extension, as Twilio serves it), with byte
    ranges (sandbox.recordings)."""
    _params(request)
    found = _recording(account, sid, f"/Recordings/{sid}{extension}")
    if found.recording_status != "completed":  # Twilio has no media before the recording is done
        return not_found(account_path(account.sid, f"/Recordings/{sid}{extension}"))
    return sandbox_recordings.media_response(twilio_json.RECORDING_SECONDS, extension, request.headers.get("Range", ""))


@twilio_endpoint("Calls", ("GET", "POST"))
def call_recordings(request: HttpRequest, account: SandboxAccount, call_sid: str) -> HttpResponse:
    found = _call(account, call_sid, f"/Calls/{call_sid}/Recordings.json")
    if request.method == "POST":
        _params(request)
        if found.status in services.FINAL_CALL_STATUSES:
            raise TwilioApiError(400, 21220, "Call is not in-progress. Cannot record.")
        if found.recording_sid:
            raise TwilioApiError(400, NOT_EMULATED, "The sandbox keeps one recording per call")
        return JsonResponse(recording_json(services.sandbox_call_recording_start(call=found)), status=201)
    params = _params(request, {"DateCreated", "DateCreated<", "DateCreated>", *PAGING})
    return _recording_list(request, _recordings(account).filter(pk=found.pk), params,
                           account_path(account.sid, f"/Calls/{call_sid}/Recordings.json"), False)


@twilio_endpoint("Calls", ("GET", "POST", "DELETE"))
def call_recording(request: HttpRequest, account: SandboxAccount, call_sid: str, recording_sid: str) -> HttpResponse:
    if request.method == "POST":
        found = services.sandbox_call_recording_update(account=account, call_sid=call_sid,
                                                       recording_sid=recording_sid,
                                                       params=_params(request, {"Status"}))
        return JsonResponse(recording_json(found))
    _params(request)
    found = _call(account, call_sid, f"/Calls/{call_sid}/Recordings/{recording_sid}.json")
    if not found.recording_sid or recording_sid not in ("Twilio.CURRENT", found.recording_sid):
        return not_found(account_path(account.sid, f"/Calls/{call_sid}/Recordings/{recording_sid}.json"))
    if request.method == "DELETE":
        services.sandbox_call_recording_delete(call=found)
        return no_content()
    return JsonResponse(recording_json(found))
