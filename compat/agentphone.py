"""003, AgentPhone: /v1/numbers… with its bodies and answers, authenticated as it shows
(`Authorization: Bearer <org API key>`; a signed-in user's token with `orgid` works too).

A number for an agent (`{"country", "agentId"}`) is bought like `POST /phone/numbers {country,
agentId}` (the first available number of the country taking calls and texts, the usual hold and
job), then answered active when its job finishes within COMPAT_PURCHASE_WAIT_SECONDS (as 002's
purchase). Releases are the release service's; messages are the number's, newest first, paged by
`before`/`after` timestamps. No rule lives here: this module only renames."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from compat.jobs import release_and_wait, wait_for
from core.openapi import errors
from core.serializers import StrictSerializer
from orgs.scoping import OrgScopedAPIView, for_org
from phones.models import Job, Message, PhoneNumber
from phones.numbers import api as numbers_api
from phones.numbers import services
from phones.numbers.serializers import CountryField
from phones.selectors import agent_in_org, phone_number_get

TAG = "compat: 003 AgentPhone"
NUMBER_ID = OpenApiParameter("number_id", str, OpenApiParameter.PATH, description="The number's id.")

class Compat003Number(serializers.Serializer):
    id = serializers.CharField()
    phoneNumber = serializers.CharField()
    country = serializers.CharField()
    status = serializers.CharField()
    agentId = serializers.CharField(allow_null=True)
    createdAt = serializers.DateTimeField()


class Compat003NumberList(serializers.Serializer):
    data = Compat003Number(many=True)
    total = serializers.IntegerField()
    hasMore = serializers.BooleanField()


class Compat003Message(serializers.Serializer):
    id = serializers.CharField()
    from_ = serializers.CharField()
    to = serializers.CharField()
    body = serializers.CharField()
    direction = serializers.CharField()
    receivedAt = serializers.DateTimeField()


class Compat003MessageList(serializers.Serializer):
    data = Compat003Message(many=True)
    hasMore = serializers.BooleanField()


Released = inline_serializer("Compat003Released", fields={
    "id": serializers.CharField(), "phoneNumber": serializers.CharField(), "status": serializers.CharField(),
    "releasedAt": serializers.DateTimeField(allow_null=True)})


class CreateBody(StrictSerializer):
    country = CountryField(required=False, default="US")
    agentId = serializers.CharField(required=False, allow_null=True, allow_blank=True, default=None, max_length=32)


class ListQuery(StrictSerializer):
    limit = serializers.IntegerField(required=False, default=20, min_value=1, max_value=100)
    offset = serializers.IntegerField(required=False, default=0, min_value=0, max_value=1_000_000)


class MessagesQuery(StrictSerializer):
    limit = serializers.IntegerField(required=False, default=50, min_value=1, max_value=200)
    before = serializers.DateTimeField(required=False, allow_null=True, default=None)
    after = serializers.DateTimeField(required=False, allow_null=True, default=None)


def number_body(number: PhoneNumber) -> dict:
    return {"id": number.public_id, "phoneNumber": number.e164, "country": number.country, "status": number.status,
            "agentId": number.agent.public_id if number.agent_id else None,
            "createdAt": number.created_at.isoformat().replace("+00:00", "Z")}


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


class NumbersView(OrgScopedAPIView):
    @extend_schema(operation_id="compat_003_numbers_create", tags=[TAG], request=CreateBody,
                   responses={201: Compat003Number, 202: Compat003Number, **errors(400, 402, 409, 502, 503)},
                   description="Provision a number that takes texts and calls in `country`, attached to `agentId` "
                               "when given: 201 with it active, or 202 while its purchase is still running.")
    def post(self, request):
        body = CreateBody(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        agent = agent_in_org(org=self.org, public_id=data["agentId"]) if data["agentId"] else None
        e164 = services.number_for_country(org=self.org, country=data["country"])
        [job] = services.phone_numbers_purchase(org=self.org, user=request.user, e164s=[e164], agent=agent)
        numbers_api.api_audit(request, job.phone_number, "phone.purchase", job)
        wait_for([job])
        number = PhoneNumber.objects.select_related("agent").get(pk=job.phone_number_id)
        if job.status == Job.Status.FAILED:
            return Response({"error": {"code": "provider_refused", "message": "The provider refused the purchase",
                                       **(job.error or {})}}, status=409)
        return Response(number_body(number), status=201 if job.status == Job.Status.SUCCEEDED else 202)

    @extend_schema(operation_id="compat_003_numbers_list", tags=[TAG], parameters=[ListQuery],
                   responses={200: Compat003NumberList, **errors(400)},
                   description="The org's numbers (released ones left out), newest first.")
    def get(self, request):
        query = ListQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        limit, offset = query.validated_data["limit"], query.validated_data["offset"]
        numbers = for_org(PhoneNumber.objects.select_related("agent"), self.org).exclude(
            status=PhoneNumber.Status.RELEASED)
        page = list(numbers[offset:offset + limit + 1])
        return Response({"data": [number_body(n) for n in page[:limit]], "total": numbers.count(),
                         "hasMore": len(page) > limit})


class NumberView(OrgScopedAPIView):
    @extend_schema(operation_id="compat_003_numbers_release", tags=[TAG], parameters=[NUMBER_ID],
                   responses={200: Released, 202: Released, **errors(404, 409)},
                   description="Release the number (irreversible); its messages are kept. 202 while the release "
                               "is still running.")
    def delete(self, request, number_id: str):
        number = phone_number_get(org=self.org, public_id=number_id)
        job = release_and_wait(request, number)
        if job.status == Job.Status.FAILED:
            return Response({"error": {"code": "provider_refused", "message": "The provider refused the release",
                                       **(job.error or {})}}, status=409)
        return Response({"id": number.public_id, "phoneNumber": number.e164, "status": number.status,
                         "releasedAt": _iso(number.released_at)},
                        status=200 if job.status == Job.Status.SUCCEEDED else 202)


class NumberMessagesView(OrgScopedAPIView):
    @extend_schema(operation_id="compat_003_number_messages", tags=[TAG], parameters=[NUMBER_ID, MessagesQuery],
                   responses={200: Compat003MessageList, **errors(400, 404)},
                   description="The number's texts, newest first; `before`/`after` (ISO 8601) page through them.")
    def get(self, request, number_id: str):
        number = phone_number_get(org=self.org, public_id=number_id)
        query = MessagesQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        q = query.validated_data
        messages = Message.objects.filter(org=self.org, phone_number=number)
        if q["before"]:
            messages = messages.filter(created_at__lt=q["before"])
        if q["after"]:
            messages = messages.filter(created_at__gt=q["after"])
        page = list(messages.order_by("-created_at", "-id")[:q["limit"] + 1])
        return Response({"data": [{"id": m.public_id, "from_": m.from_number, "to": m.to_number, "body": m.body,
                                   "direction": m.direction, "receivedAt": _iso(m.created_at)}
                                  for m in page[:q["limit"]]],
                         "hasMore": len(page) > q["limit"]})
