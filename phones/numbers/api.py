from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema
from rest_framework.response import Response

from billing.models import LedgerEntry
from billing.periods import add_months
from billing.services import hold_key
from core.errors import NotFound
from core.openapi import errors, patch_like_put
from orgs.audit import audit_record
from orgs.idempotency import HEADER, idempotent
from orgs.scoping import OrgScopedAPIView, for_org, get_for_org
from phones.calls.api import RoutingView
from phones.models import Job, PhoneNumber
from phones.numbers import selectors, services
from phones.numbers.serializers import (
    AvailableQuerySerializer,
    AvailableResponseSerializer,
    ImportSerializer,
    JobSerializer,
    NumberListQuerySerializer,
    NumberListSerializer,
    NumberWithJobSerializer,
    PhoneNumberSerializer,
    PurchasedManySerializer,
    PurchasedSerializer,
    PurchaseSerializer,
    RoutingModeSerializer,
    SetupSerializer,
    SystemPhoneSerializer,
    UpdateSerializer,
)
from phones.selectors import agent_in_org, phone_number_get
from providers.base import Regulatory, SearchCriteria


def api_audit(request, number: PhoneNumber, action: str, job: Job | None, before: dict | None = None) -> None:
    """Purchases, imports and releases made through the API go in the audit log staff read, as the
    admin's own actions do, under the acting user (an API key's principal for a key)."""
    audit_record(actor=request.user, org=number.org, action=action, target=number, before=before,
                 after={"status": number.status, **({"job": job.public_id} if job else {})}, note="via API")


class AvailableNumbersView(OrgScopedAPIView):
    @extend_schema(
        operation_id="phone_available", tags=["phone"], parameters=[AvailableQuerySerializer],
        responses={200: AvailableResponseSerializer, **errors(400, 502, 503)},
        description="Search the connected provider's inventory. Each number carries its price here "
                    "(setup and monthly, minor units) and the address the provider requires to sell it "
                    "(`addressRequirements`; `excludeAddressRequired=true` leaves those out). Without a "
                    "connection: 400 `provider_not_configured`.",
    )
    def get(self, request):
        query = AvailableQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        q = query.validated_data
        criteria = SearchCriteria(
            country=q["countryCode"], number_type=q["type"], area_code=q.get("areaCode"), region=q.get("region"),
            contains=q.get("contains"), sms_enabled=q["smsEnabled"], voice_enabled=q["voiceEnabled"],
            mms_enabled=q["mmsEnabled"], limit=q["limit"], exclude_address_required=q["excludeAddressRequired"],
        )
        numbers = selectors.available_numbers(org=self.org, criteria=criteria)
        return Response({"numbers": numbers, "totalFound": len(numbers)})


def _number_and_job(number: PhoneNumber, job: Job) -> dict:
    """The number and its job as they are now (the job may have run already, eagerly)."""
    number.refresh_from_db()
    job.refresh_from_db()
    return {"number": PhoneNumberSerializer(number).data, "job": JobSerializer(job).data}


def purchase_answer(number: PhoneNumber, job: Job) -> dict:
    """A purchase's answer for one number: it, its job, its billing cycle and the hold's ledger entry."""
    hold = LedgerEntry.objects.get(key=hold_key(number))
    return {**_number_and_job(number, job), "billingCycle": "monthly",
            "nextBillingDate": (number.next_billing_date or add_months(timezone.localdate(), 1)).isoformat(),
            "transaction": {"id": hold.public_id, "amount": -hold.amount, "currency": hold.currency,
                            "description": hold.description}}


def _accepted(number: PhoneNumber, job: Job, status_code: int = 202) -> Response:
    return Response(_number_and_job(number, job), status=status_code)


class NumbersView(OrgScopedAPIView):
    @extend_schema(operation_id="phone_numbers_list", tags=["phone"], parameters=[NumberListQuerySerializer],
                   responses={200: NumberListSerializer, **errors(400)},
                   description="The org's numbers, newest first (released ones only when asked), with the "
                               "total monthly cost of its live numbers.")
    def get(self, request):
        query = NumberListQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        q = query.validated_data
        result = selectors.phone_number_list(org=self.org, filters=q, limit=q["limit"], offset=q["offset"])
        return Response({
            "numbers": PhoneNumberSerializer(result["numbers"], many=True).data,
            "total": result["total"], "limit": q["limit"], "offset": q["offset"],
            "monthlyCost": result["monthly_cost"], "currency": self.org.currency,
        })

    @extend_schema(operation_id="phone_numbers_purchase", tags=["phone"], request=PurchaseSerializer,
                   parameters=[OpenApiParameter(HEADER, str, OpenApiParameter.HEADER, required=False,
                                                description="Same key and body → same response, one purchase.")],
                   responses={202: PolymorphicProxySerializer(
                       component_name="PurchaseAnswer", serializers=[PurchasedSerializer, PurchasedManySerializer],
                       resource_type_field_name=None), **errors(400, 402, 409, 422, 502, 503)},
                   description="Holds setup + first month from the balance and records the number as pending "
                               "(with the friendly name, locality and region the search showed); a job buys it "
                               "with its webhooks set (poll GET /jobs/{id}). The answer carries the billing cycle, "
                               "the first renewal and the hold's ledger entry (`transaction`). With `numbers` "
                               "instead of `phoneNumber`: all are held or none, one job each, answered as "
                               "`{numbers: [...], totalAmount, currency}`. A number whose search showed an "
                               "`addressRequirements` other than none needs `addressSid` (an address at the "
                               "provider that meets it, in the number's country for `local`): without one, or "
                               "with one that does not meet it, 400 (`address_required`, `address_not_found`, "
                               "`address_not_local`, `address_not_foreign`) before anything is charged. "
                               "`addressSid` and `bundleSid` are passed to the provider with the purchase. "
                               "With `country` instead (and usually "
                               "`agentId`): the first available number of that country taking calls and texts is "
                               "bought the same way.")
    def post(self, request):
        body = PurchaseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data

        def purchase() -> Response:
            agent = agent_in_org(org=self.org, public_id=data["agentId"]) if data.get("agentId") else None
            e164s = data.get("numbers") or [data.get("phoneNumber") or
                                            services.number_for_country(org=self.org, country=data["country"])]
            jobs = services.phone_numbers_purchase(
                org=self.org, user=request.user, e164s=e164s,
                friendly_name=data["friendlyName"], purpose=data["purpose"], configuration=data.get("configuration"),
                routing_mode=data["routingMode"], trunk_id=data["trunkId"], agent=agent,
                regulatory=Regulatory(address_sid=data["addressSid"], bundle_sid=data["bundleSid"]))
            for job in jobs:
                api_audit(request, job.phone_number, "phone.purchase", job)
            answers = [purchase_answer(job.phone_number, job) for job in jobs]
            if "numbers" not in data:
                return Response(answers[0], status=202)
            return Response({"numbers": answers, "totalAmount": sum(a["transaction"]["amount"] for a in answers),
                             "currency": self.org.currency}, status=202)

        return idempotent(org=self.org, key=request.headers.get(HEADER), scope="phone-purchase",
                          body=request.data, run=purchase)


class NumberImportView(OrgScopedAPIView):
    @extend_schema(operation_id="phone_numbers_import", tags=["phone"], request=ImportSerializer,
                   responses={201: PhoneNumberSerializer, **errors(400, 402, 409, 502, 503)},
                   description="Manage a number the connected account already owns (checked at the provider). "
                               "Its webhooks are re-pointed here; nothing else changes. No setup fee; the first "
                               "month is charged.")
    def post(self, request):
        body = ImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        number = services.phone_number_import(org=self.org, user=request.user, e164=data["phoneNumber"],
                                              friendly_name=data["friendlyName"], purpose=data["purpose"],
                                              configuration=data.get("configuration"))
        api_audit(request, number, "phone.import", None)
        return Response(PhoneNumberSerializer(number).data, status=201)


class NumberDetailView(OrgScopedAPIView):
    @extend_schema(operation_id="phone_numbers_get", tags=["phone"],
                   responses={200: PhoneNumberSerializer, **errors(404)})
    def get(self, request, public_id: str):
        return Response(PhoneNumberSerializer(phone_number_get(org=self.org, public_id=public_id)).data)

    @extend_schema(operation_id="phone_numbers_update", tags=["phone"], request=UpdateSerializer,
                   responses={200: PhoneNumberSerializer, **errors(400, 404, 409, 422, 502, 503)},
                   description="Partial update; configuration sections merge key by key. A new friendly name "
                               "is pushed to the provider first.")
    def put(self, request, public_id: str):
        number = phone_number_get(org=self.org, public_id=public_id)
        body = UpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        number = services.phone_number_update(number=number, changes=body.validated_data)
        return Response(PhoneNumberSerializer(number).data)

    patch = patch_like_put(put, "phone_numbers_patch")

    @extend_schema(operation_id="phone_numbers_release", tags=["phone"],
                   responses={202: NumberWithJobSerializer, **errors(404, 409)},
                   description="Release at the provider (irreversible) and refund the unused part of the month. "
                               "The record is kept, as released, with its messages.")
    def delete(self, request, public_id: str):
        number = phone_number_get(org=self.org, public_id=public_id)
        before = number.status
        job = services.phone_number_release(number=number, user=request.user)
        if before != PhoneNumber.Status.RELEASING:  # a repeated DELETE gets the same job, recorded once
            number.refresh_from_db(fields=["status"])
            api_audit(request, number, "phone.release", job, before={"status": before})
        return _accepted(number, job)


class RoutingModeView(RoutingView):
    """GET/PUT the routing documents (RoutingView), and POST switches voice/IVR."""

    @extend_schema(operation_id="phone_routing_mode", tags=["routing"], request=RoutingModeSerializer,
                   responses={200: PhoneNumberSerializer, **errors(400, 404, 409, 422, 502, 503)},
                   description="Switch voice/IVR; the provider's voice webhook is re-pointed first.")
    def post(self, request, public_id: str):
        number = phone_number_get(org=self.org, public_id=public_id)
        body = RoutingModeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        number = services.phone_number_set_routing_mode(number=number, mode=body.validated_data["mode"])
        return Response(PhoneNumberSerializer(number).data)


class SetupView(OrgScopedAPIView):
    @extend_schema(operation_id="phone_setup", tags=["phone"], request=SetupSerializer,
                   responses={201: NumberWithJobSerializer, 202: NumberWithJobSerializer,
                              **errors(400, 402, 409, 502, 503)},
                   description="Buy the first number in an area code (purchaseNew), or import phoneNumber. "
                               "setAsSystem is honoured only when the org has no system phone.")
    def post(self, request):
        body = SetupSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        number, job = services.phone_setup(
            org=self.org, user=request.user, purchase_new=d["purchaseNew"], country=d["countryCode"],
            area_code=d.get("areaCode"), e164=d.get("phoneNumber"), friendly_name=d["friendlyName"],
            purpose=d["purpose"], set_as_system=d["setAsSystem"])
        api_audit(request, number, "phone.purchase" if job is not None else "phone.import", job)
        if job is not None:
            return _accepted(number, job)
        number.refresh_from_db()
        return Response({"number": PhoneNumberSerializer(number).data, "job": None}, status=201)


class SystemPhoneView(OrgScopedAPIView):
    @extend_schema(operation_id="phone_system_get", tags=["phone"],
                   responses={200: PhoneNumberSerializer, **errors(404)})
    def get(self, request):
        number = for_org(PhoneNumber.objects.filter(is_system=True), self.org).first()
        if number is None:
            raise NotFound("This org has no system phone", code="no_system_phone")
        return Response(PhoneNumberSerializer(number).data)

    @extend_schema(operation_id="phone_system_set", tags=["phone"], request=SystemPhoneSerializer,
                   responses={200: PhoneNumberSerializer, **errors(400, 404, 409)})
    def post(self, request):
        body = SystemPhoneSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        number = phone_number_get(org=self.org, public_id=body.validated_data["phoneId"])
        return Response(PhoneNumberSerializer(services.system_phone_set(org=self.org, number=number)).data)


class JobDetailView(OrgScopedAPIView):
    @extend_schema(operation_id="jobs_get", tags=["jobs"], responses={200: JobSerializer, **errors(404)})
    def get(self, request, public_id: str):
        job = get_for_org(Job.objects.select_related("phone_number"), self.org, public_id=public_id)
        return Response(JobSerializer(job).data)
