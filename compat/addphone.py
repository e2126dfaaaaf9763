"""004, multi-provider add-phone: `POST /api/call/add-phone` with the provider's credentials inline.

The credentials are checked with the provider and the org's connection to that account reused or
created (orgs.services.connection_for_account); the number is imported through it
(phones.numbers.services.phone_number_import: ownership at the provider, webhooks, first month),
recorded as created by `userId`, a member of the org. One transaction: on any error nothing is
saved. Answers and errors in 004's envelope and statuses."""
from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from core.errors import InvalidInput, NotFound
from core.serializers import E164Field, StrictSerializer
from orgs.models import Membership
from orgs.scoping import OrgScopedAPIView
from orgs.services import connection_for_account
from phones.numbers import api as numbers_api
from phones.numbers.services import phone_number_import

TAG = "compat: 004 add-phone"

# 004's integration → our connection type and its credentials from the body's authToken / accSId.
INTEGRATIONS = {
    "twilio": ("twilio-provider", lambda token, sid: {"accountSid": sid, "authToken": token}, lambda sid: {}),
    "plivo": ("plivo-provider", lambda token, sid: {"authId": sid, "authToken": token}, lambda sid: {}),
    # 004's accSId for Telnyx is the App ID: the TeXML application (connectionId) numbers attach to.
    "telnyx": ("telnyx-provider", lambda token, sid: {"apiKey": token}, lambda sid: {"connectionId": sid}),
}

# Our error codes → 004's statuses (400 for its user/number/credential errors, 500 for webhook setup).
STATUSES = {"invalid_credentials": 400, "number_exists": 400, "number_unavailable": 400, "number_not_owned": 400,
            "webhook_setup_failed": 500}


class AddPhoneBody(StrictSerializer):
    userId = serializers.CharField(max_length=64)
    phoneNumber = E164Field()
    integration = serializers.ChoiceField(choices=sorted(INTEGRATIONS))
    authToken = serializers.CharField(max_length=256)
    accSId = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")


ENVELOPE = inline_serializer("Compat004Envelope", fields={
    "message": serializers.CharField(), "status": serializers.BooleanField(), "code": serializers.IntegerField(),
    "errorMessage": serializers.CharField(allow_blank=True),
    "data": inline_serializer("Compat004Phone", fields={
        "_id": serializers.CharField(), "userId": serializers.CharField(), "phoneNumber": serializers.CharField(),
        "integration": serializers.CharField(), "createdAt": serializers.DateTimeField()}, allow_null=True)})


def _owner(org, user_id: str):
    if not user_id.isdigit() or len(user_id) > 18:
        raise InvalidInput(f"Invalid user id {user_id!r}", code="invalid_user_id", field="userId")
    membership = (Membership.objects.select_related("user")
                  .filter(org=org, user_id=int(user_id), user__is_active=True).first())
    if membership is None:
        raise NotFound("User not found")
    return membership.user


class AddPhoneView(OrgScopedAPIView):
    @extend_schema(operation_id="compat_004_add_phone", tags=[TAG], request=AddPhoneBody,
                   responses={201: ENVELOPE, 400: ENVELOPE, 401: ENVELOPE, 402: ENVELOPE, 403: ENVELOPE, 404: ENVELOPE,
                              500: ENVELOPE, 503: ENVELOPE},
                   description="004's add-phone. `userId` is the numeric id of a member of the org. Errors: 400 "
                               "invalid user id, number already added, number not owned, invalid credentials; "
                               "404 user not found; 500 webhook setup failed (004's status). Nothing is saved "
                               "on any error.")
    def post(self, request):
        body = AddPhoneBody(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        type_, credentials, public_config = INTEGRATIONS[d["integration"]]
        owner = _owner(self.org, d["userId"])
        with transaction.atomic():
            connection, _ = connection_for_account(
                org=self.org, type_=type_, name=f"{d['integration'].title()} (add-phone)",
                credentials=credentials(d["authToken"], d["accSId"]), public_config=public_config(d["accSId"]))
            number = phone_number_import(org=self.org, user=owner, e164=d["phoneNumber"], connection=connection)
        numbers_api.api_audit(request, number, "phone.import", None)
        return Response({"message": "Phone number added successfully", "status": True, "code": 201,
                         "errorMessage": "", "data": {
                             "_id": number.public_id, "userId": str(owner.pk), "phoneNumber": number.e164.lstrip("+"),
                             "integration": d["integration"], "createdAt": number.created_at}}, status=201)

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        data = response.data if isinstance(response.data, dict) else {}
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        status = STATUSES.get(error.get("code"), response.status_code)
        message = str(error.get("message") or data.get("detail") or "Request failed")
        response.status_code = status
        response.data = {"message": message, "status": False, "code": status, "errorMessage": message,
                         "error": error or data, "data": None}
        return response
