"""The emulator's Addresses resource (2010-04-01): create, list and fetch an account's addresses,
the ones a number with an address requirement is bought with (sandbox.regulatory)."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse

from sandbox.models import SandboxAccount
from sandbox.regulatory import ADDRESS_CREATE_PARAMS, address_json, flag, sandbox_address_create
from sandbox.twilio_json import account_path, not_found
from sandbox.views import PAGING, _listed, _params, twilio_endpoint

LIST_FILTERS = {"CustomerName": "customer_name", "FriendlyName": "friendly_name", "IsoCountry": "iso_country"}


@twilio_endpoint("Addresses", ("GET", "POST"))
def addresses(request: HttpRequest, account: SandboxAccount) -> HttpResponse:
    if request.method == "POST":
        address = sandbox_address_create(account=account, params=_params(request, ADDRESS_CREATE_PARAMS))
        return JsonResponse(address_json(address), status=201)
    params = _params(request, {*LIST_FILTERS, "EmergencyEnabled", *PAGING})
    found = account.addresses.select_related("account")
    for name, column in LIST_FILTERS.items():
        if name in params:
            found = found.filter(**{column: params[name]})
    if "EmergencyEnabled" in params:
        found = found.filter(emergency_enabled=flag(params, "EmergencyEnabled"))
    return _listed(request, found, key="addresses", path=account_path(account.sid, "/Addresses.json"),
                   params=params, render=address_json)


@twilio_endpoint("Addresses", ("GET",))
def address(request: HttpRequest, account: SandboxAccount, sid: str) -> HttpResponse:
    _params(request)
    found = account.addresses.select_related("account").filter(sid=sid).first()
    if found is None:
        return not_found(account_path(account.sid, f"/Addresses/{sid}.json"))
    return JsonResponse(address_json(found))
