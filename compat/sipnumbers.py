"""002, the SIP-trunk numbers API: /api/v1/account/{accountId}/numbers… in its envelope.

`accountId` is the org's slug; another org's account is a 404. Every rule (prices, balance,
all-or-none, release refusals, refunds) is the numbers service's; this module only renames."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from compat.jobs import release_and_wait, wait_for
from core.errors import InvalidInput, NotFound
from core.serializers import E164Field, StrictSerializer
from orgs.scoping import OrgScopedAPIView
from phones.models import Job, PhoneNumber
from phones.numbers import api as numbers_api
from phones.numbers import selectors, services
from phones.numbers.serializers import CountryField, PhoneNumberSerializer
from phones.selectors import phone_number_get
from providers.base import SearchCriteria

TAG = "compat: 002 SIP-trunk numbers"
ENVELOPE = inline_serializer("Compat002Envelope", fields={
    "status": serializers.CharField(), "message": serializers.CharField(required=False),
    "data": serializers.DictField()})
ERROR = inline_serializer("Compat002Error", fields={
    "status": serializers.CharField(), "message": serializers.CharField(), "error": serializers.DictField()})
ACCOUNT = OpenApiParameter("accountId", str, OpenApiParameter.PATH, description="The org's slug.")


def responses(ok: dict, *errors: int) -> dict:
    """The answers in 002's envelope; 400 (a missing orgid), 401 and 403 always, as everywhere."""
    return {**ok, **{code: ERROR for code in sorted({400, 401, 403, *errors})}}


class CatalogQuery(StrictSerializer):
    country = CountryField(required=False, default="US")
    area_code = serializers.RegexField(r"^\d{2,5}$", required=False)
    contains = serializers.RegexField(r"^(?=.*[0-9A-Za-z])[0-9A-Za-z*]{2,16}$", required=False)
    limit = serializers.IntegerField(required=False, default=20, min_value=1, max_value=100)


class PurchaseBody(StrictSerializer):
    country = CountryField(required=False, default="US")
    numbers = serializers.ListField(child=E164Field(), min_length=1, max_length=10)
    voice = serializers.BooleanField(required=False, default=True)
    sms = serializers.BooleanField(required=False, default=True)
    currency = serializers.CharField(required=False, max_length=3)
    trunkId = serializers.CharField(required=False, default="", max_length=64, allow_blank=True)


class AccountView(OrgScopedAPIView):
    """The org the path names must be the caller's org; errors in 002's envelope."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if kwargs.get("accountId") != self.org.slug:
            raise NotFound("No such account")

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        data = response.data if isinstance(response.data, dict) else {}
        error = data.get("error") if isinstance(data.get("error"), dict) else data
        response.data = {"status": "error", "message": str(error.get("message") or error.get("detail") or ""),
                         "error": error}
        return response


def _number(number: PhoneNumber) -> dict:
    data = PhoneNumberSerializer(number).data
    return {key: data[key] for key in ("id", "phoneNumber", "friendlyName", "country", "region", "locality",
                                       "status", "trunkId", "trunkName", "capabilities", "pricing", "purchasedAt",
                                       "nextBillingDate")}


class CatalogView(AccountView):
    @extend_schema(operation_id="compat_002_numbers_catalog", tags=[TAG], parameters=[ACCOUNT, CatalogQuery],
                   responses=responses({200: ENVELOPE}, 404))
    def get(self, request, accountId: str):
        query = CatalogQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        q = query.validated_data
        numbers = selectors.available_numbers(org=self.org, criteria=SearchCriteria(
            country=q["country"], area_code=q.get("area_code"), contains=q.get("contains"), limit=q["limit"]))
        return Response({"status": "success", "data": {"numbers": numbers, "totalFound": len(numbers)}})


class PurchaseView(AccountView):
    @extend_schema(operation_id="compat_002_numbers_purchase", tags=[TAG], parameters=[ACCOUNT], request=PurchaseBody,
                   responses=responses({200: ENVELOPE, 202: ENVELOPE}, 402, 404, 409, 502, 503),
                   description="The purchase service (all or none); waits for the jobs up to a bound, then "
                               "answers the active number (200) or the pending one (202).")
    def post(self, request, accountId: str):
        body = PurchaseBody(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data.get("currency") and data["currency"].upper() != self.org.currency:
            raise InvalidInput(f"This account is billed in {self.org.currency}", code="currency_mismatch",
                               field="currency")
        for e164 in data["numbers"]:
            if services.classify(e164)[0] != data["country"]:
                raise InvalidInput(f"{e164} is not a {data['country']} number", code="country_mismatch",
                                   field="numbers")
        jobs = services.phone_numbers_purchase(org=self.org, user=request.user, e164s=data["numbers"],
                                               trunk_id=data["trunkId"])
        for job in jobs:
            numbers_api.api_audit(request, job.phone_number, "phone.purchase", job)
        wait_for(jobs)
        answers = []
        for job in jobs:
            purchased = numbers_api.purchase_answer(job.phone_number, job)
            answers.append(_number(job.phone_number) | {
                "billingCycle": purchased["billingCycle"], "nextBillingDate": purchased["nextBillingDate"],
                "transaction": purchased["transaction"], "jobId": purchased["job"]["id"]})
        done = all(job.status == Job.Status.SUCCEEDED for job in jobs)
        failed = [job for job in jobs if job.status == Job.Status.FAILED]
        if failed:
            return Response({"status": "error", "message": "The provider refused the purchase",
                             "error": failed[0].error, "data": answers[0] if len(answers) == 1 else answers},
                            status=409)
        message = "Phone number purchased successfully" if done else "Phone number purchase pending"
        return Response({"status": "success", "message": message,
                         "data": answers[0] if len(answers) == 1 else {"numbers": answers}},
                        status=200 if done else 202)


class NumbersView(AccountView):
    @extend_schema(operation_id="compat_002_numbers_list", tags=[TAG], parameters=[ACCOUNT],
                   responses=responses({200: ENVELOPE}, 404))
    def get(self, request, accountId: str):
        result = selectors.phone_number_list(org=self.org, filters={}, limit=100, offset=0)
        numbers = []
        for number in result["numbers"]:
            entry = _number(number)
            numbers.append({key: entry[key] for key in ("id", "phoneNumber", "friendlyName", "country", "status",
                                                        "trunkId", "trunkName", "capabilities")}
                           | {"monthlyFee": number.monthly_fee, "currency": number.currency,
                              "purchasedAt": entry["purchasedAt"], "nextBillingDate": entry["nextBillingDate"]})
        return Response({"status": "success", "data": {"numbers": numbers, "total": result["total"],
                                                       "monthlyCost": result["monthly_cost"]}})


class NumberView(AccountView):
    @extend_schema(operation_id="compat_002_numbers_release", tags=[TAG], parameters=[ACCOUNT],
                   responses=responses({200: ENVELOPE, 202: ENVELOPE}, 404, 409),
                   description="The release service; waits for its job up to the same bound.")
    def delete(self, request, accountId: str, id: str):
        number = phone_number_get(org=self.org, public_id=id)
        job = release_and_wait(request, number)
        data = {"id": number.public_id, "phoneNumber": number.e164,
                "releasedAt": number.released_at.isoformat() if number.released_at else None,
                "finalBilling": (job.result or {}).get("finalBilling"), "jobId": job.public_id}
        if job.status == Job.Status.FAILED:
            return Response({"status": "error", "message": "The provider refused the release", "error": job.error,
                             "data": data}, status=409)
        if job.status != Job.Status.SUCCEEDED:
            return Response({"status": "success", "message": "Phone number release pending", "data": data},
                            status=202)
        return Response({"status": "success", "message": "Phone number released successfully", "data": data})
