"""GET /phone/verify (one number now, or all numbers as a job) and GET /phone/verify/report."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from core.errors import Conflict, NotFound
from core.openapi import errors
from core.serializers import StrictSerializer
from orgs.models import Membership
from orgs.scoping import OrgScopedAPIView, for_org, get_for_org
from phones.models import Job, PhoneNumber, VerifyReport
from phones.numbers.serializers import JobSerializer, NumberCapabilitiesSerializer, json_as
from phones.selectors import phone_number_get
from phones.verify import checks
from phones.verify import services as verify


class VerifyQuerySerializer(StrictSerializer):
    phoneId = serializers.CharField(required=False, max_length=32,
                                    help_text="Verify this number only, synchronously. Without it: all, as a job.")
    repair = serializers.BooleanField(required=False, default=False,
                                      help_text="Re-point drifted webhooks (admins and owners only). Never buys, "
                                                "releases or charges.")


class ReportQuerySerializer(StrictSerializer):
    jobId = serializers.CharField(required=False, max_length=32, help_text="The verify/reconcile job's report; "
                                                                           "default: the latest report.")
    problemsOnly = serializers.BooleanField(required=False, default=False,
                                            help_text="Leave out numbers whose result is ok.")


class UrlMethodSerializer(serializers.Serializer):
    url = serializers.CharField(allow_blank=True)
    method = serializers.CharField()


class OverrideSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="What takes the traffic: trunk, application or messaging_service.")
    sid = serializers.CharField()


class WebhookCheckSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=checks.REASONS)
    expected = UrlMethodSerializer()
    actual = UrlMethodSerializer()
    overriddenBy = OverrideSerializer(allow_null=True)


class MessagingServiceStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["member", "not_member", "other_service", "none_configured",
                                              checks.A2P_NOT_APPLICABLE, checks.UNKNOWN])
    expected = serializers.CharField(allow_null=True, help_text="The connection's messagingServiceSid.")
    actual = serializers.CharField(allow_null=True, help_text="The service the number is in at the provider.")


class A2PSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[checks.A2P_REGISTERED, checks.A2P_PENDING, checks.A2P_FAILED,
                                              checks.A2P_NOT_REGISTERED, checks.A2P_NOT_APPLICABLE, checks.UNKNOWN])
    campaignSid = serializers.CharField(allow_null=True)
    campaignStatus = serializers.CharField(allow_null=True, help_text="The provider's word: VERIFIED, FAILED …")


class SmsRegistrationSerializer(serializers.Serializer):
    smsCapable = serializers.BooleanField(allow_null=True)
    messagingService = MessagingServiceStatusSerializer()
    a2p = A2PSerializer(help_text="A2P 10DLC campaign status; applies to US local and mobile numbers.")
    error = serializers.CharField(required=False, help_text="Why the registration could not be read.")


class TrunkCheckSerializer(serializers.Serializer):
    expected = serializers.CharField(allow_null=True, help_text="The SIP trunk recorded here (its SID).")
    actual = serializers.CharField(allow_null=True, help_text="The trunk the number is on at the provider.")


class NumberCheckSerializer(serializers.Serializer):
    phoneId = serializers.CharField()
    phoneNumber = serializers.CharField()
    sid = serializers.CharField(allow_blank=True)
    connectionId = serializers.CharField()
    status = serializers.ChoiceField(choices=PhoneNumber.Status.values, help_text="Our status after the run.")
    isSystem = serializers.BooleanField()
    result = serializers.ChoiceField(choices=["ok", "drift", "overridden", "missing", "reappeared"])
    voice = WebhookCheckSerializer(allow_null=True)
    sms = WebhookCheckSerializer(allow_null=True)
    statusCallback = WebhookCheckSerializer(allow_null=True)
    trunk = TrunkCheckSerializer(allow_null=True, help_text="A difference is the voice check's trunk_mismatch.")
    smsRegistration = SmsRegistrationSerializer(allow_null=True)
    missingSince = serializers.DateTimeField(allow_null=True)
    newlyMissing = serializers.BooleanField(required=False)
    repaired = serializers.BooleanField()
    repairError = serializers.JSONField(allow_null=True)


class ImportableSerializer(serializers.Serializer):
    phoneNumber = serializers.CharField()
    sid = serializers.CharField()
    friendlyName = serializers.CharField(allow_blank=True)
    capabilities = json_as(NumberCapabilitiesSerializer)()
    connectionId = serializers.CharField()


class VerifyReportSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    jobId = serializers.SerializerMethodField()
    createdAt = serializers.DateTimeField(source="created_at")
    repaired = serializers.BooleanField(help_text="Whether repair was asked for.")
    summary = serializers.DictField(help_text="Counts: checked, ok, drifted, overridden, missing, newlyMissing, "
                                              "reappeared, importable, repaired, repairFailed, reasons per "
                                              "webhook, messagingService, a2p, inventoryRequests.")
    numbers = serializers.SerializerMethodField()
    importable = serializers.SerializerMethodField()

    def get_jobId(self, obj: VerifyReport) -> str | None:
        return obj.job.public_id if obj.job_id else None

    @extend_schema_field(NumberCheckSerializer(many=True))
    def get_numbers(self, obj: VerifyReport) -> list[dict]:
        numbers = obj.report.get("numbers", [])
        if self.context.get("problems_only"):
            numbers = [n for n in numbers if n["result"] != checks.OK]
        return numbers

    @extend_schema_field(ImportableSerializer(many=True))
    def get_importable(self, obj: VerifyReport) -> list[dict]:
        return obj.report.get("importable", [])


class VerifyJobSerializer(serializers.Serializer):
    job = JobSerializer()


class VerifyView(OrgScopedAPIView):
    @extend_schema(
        operation_id="phone_verify", tags=["phone"], parameters=[VerifyQuerySerializer],
        responses={200: VerifyReportSerializer,
                   202: OpenApiResponse(VerifyJobSerializer, description="All numbers: a verify job; poll "
                                        "GET /jobs/{id}, then read GET /phone/verify/report?jobId="),
                   **errors(400, 404, 409, 422, 502, 503)},
        description="Webhook configuration (voice, SMS, status callback: ok / not_set / url_mismatch / "
                    "wrong_http_method / overridden, with expected and actual), SMS registration (messaging "
                    "service, A2P 10DLC for US numbers), numbers gone at the provider (flagged missing, no "
                    "longer billed) and numbers only at the provider (importable). Members may read; repair "
                    "needs admin.")
    def get(self, request):
        query = VerifyQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        q = query.validated_data
        if q["repair"] and not self.membership.has_role(Membership.Role.ADMIN):
            raise exceptions.PermissionDenied("Repairing webhooks needs the admin role")
        if "phoneId" not in q:
            job = verify.verify_job_start(org=self.org, user=request.user, repair=q["repair"])
            job.refresh_from_db()
            return Response({"job": JobSerializer(job).data}, status=202)
        number = phone_number_get(org=self.org, public_id=q["phoneId"])
        if number.status not in verify.CHECKED:
            raise Conflict(f"A {number.status} number is not at the provider to verify",
                           code="number_not_verifiable")
        report = verify.verify_run(org=self.org, numbers=[number], repair=q["repair"], actor=request.user)
        return Response(VerifyReportSerializer(report).data)


class VerifyReportView(OrgScopedAPIView):
    @extend_schema(operation_id="phone_verify_report", tags=["phone"], parameters=[ReportQuerySerializer],
                   responses={200: VerifyReportSerializer, **errors(400, 404)},
                   description="A stored verify or reconcile report: the latest, or that of jobId.")
    def get(self, request):
        query = ReportQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        q = query.validated_data
        reports = for_org(VerifyReport.objects.select_related("job"), self.org)
        if "jobId" in q:
            job = get_for_org(Job.objects.all(), self.org, public_id=q["jobId"])
            reports = reports.filter(job=job)
        report = reports.order_by("-created_at", "-id").first()
        if report is None:
            raise NotFound("No verify report yet" + (" for this job" if "jobId" in q else ""), code="no_report")
        return Response(VerifyReportSerializer(report, context={"problems_only": q["problemsOnly"]}).data)
