"""Staff pages for numbers and their traffic: the numbers list with its actions, and read-only
jobs (with progress), verify reports, messages and calls. Every list selects its related rows
in the one query (list_select_related), so a page of 100 costs the same as a page of 1."""
from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from core.display import formatted_number, money
from orgs.admin import ReadOnlyAdmin
from orgs.audit import audit_list
from orgs.models import ProviderConnection
from phones.admin import actions as admin_actions
from phones.models import Call, Job, Message, PhoneNumber, VerifyReport
from phones.numbers.selectors import purchase_jobs_unsettled

BADGE_COLOURS = {
    # (background, text): green for fine, amber for waiting or owing, red for broken, grey for gone.
    "active": ("#e6f4ea", "#137333"), "succeeded": ("#e6f4ea", "#137333"), "ok": ("#e6f4ea", "#137333"),
    "pending": ("#fef7e0", "#8a5a00"), "queued": ("#fef7e0", "#8a5a00"), "running": ("#e8f0fe", "#1a56c4"),
    "releasing": ("#fef7e0", "#8a5a00"), "past_due": ("#fce8e6", "#b3261e"), "missing": ("#fce8e6", "#b3261e"),
    "failed": ("#fce8e6", "#b3261e"), "drift": ("#fce8e6", "#b3261e"), "overridden": ("#fef7e0", "#8a5a00"),
    "released": ("#f1f3f4", "#5f6368"), "reappeared": ("#fef7e0", "#8a5a00"),
}


def badge(value: str, label: str | None = None) -> str:
    background, colour = BADGE_COLOURS.get(value, ("#f1f3f4", "#3c4043"))
    return format_html('<span style="background:{};color:{};padding:2px 8px;border-radius:10px;font-weight:600;'
                       'white-space:nowrap">{}</span>', background, colour, label or value.replace("_", " "))




class PastDueFilter(admin.SimpleListFilter):
    title = "past due"
    parameter_name = "past_due"

    def lookups(self, request, model_admin):
        return [("yes", "Past due"), ("no", "Paid up")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status=PhoneNumber.Status.PAST_DUE)
        if self.value() == "no":
            return queryset.exclude(status=PhoneNumber.Status.PAST_DUE)
        return queryset


class ProviderFilter(admin.SimpleListFilter):
    title = "provider"
    parameter_name = "provider"

    def lookups(self, request, model_admin):
        return ProviderConnection.Type.choices

    def queryset(self, request, queryset):
        return queryset.filter(connection__type=self.value()) if self.value() else queryset


@admin.register(PhoneNumber)
class PhoneNumberAdmin(admin.ModelAdmin):
    list_display = ["number", "friendly_name", "org", "status_badge", "routing_mode", "provider", "is_system",
                    "monthly_cost", "next_billing_date"]
    list_display_links = ["number"]
    list_filter = [("org", admin.RelatedOnlyFieldListFilter), "status", "routing_mode", ProviderFilter,
                   "is_system", PastDueFilter, "number_type", "country"]
    list_select_related = ["org", "connection"]
    search_fields = ["e164", "friendly_name", "public_id", "provider_sid", "org__slug", "purpose"]
    ordering = ["org__slug", "e164"]
    list_per_page = 50
    actions = ["release_numbers", "reassign_numbers", "verify_numbers", "make_system_phone"]
    fieldsets = [
        (None, {"fields": ["number", "public_id", "org", "connection", "status_badge", "is_system", "friendly_name",
                           "purpose", "routing_mode", "agent_id", "trunk_id"]}),
        ("Provider", {"fields": ["provider_sid", "country", "number_type", "capabilities", "webhooks"]}),
        ("Billing", {"fields": ["setup_fee", "monthly_cost", "purchased_at", "next_billing_date", "released_at",
                                "missing_since"]}),
        ("History", {"fields": ["audit_trail", "created_by", "created_at", "updated_at"]}),
    ]

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a number leaves through release, never a row delete
        return actions

    def get_readonly_fields(self, request, obj=None):
        # Changes go through the actions (and the API's services), never straight into the row.
        return [f for fieldset in self.fieldsets for f in fieldset[1]["fields"]]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="number", ordering="e164")
    def number(self, obj: PhoneNumber) -> str:
        return format_html('<span style="white-space:nowrap">{}</span>', formatted_number(obj.e164))

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: PhoneNumber) -> str:
        return badge(obj.status, obj.get_status_display())

    @admin.display(description="provider", ordering="connection__type")
    def provider(self, obj: PhoneNumber) -> str:
        return obj.connection.get_type_display()

    @admin.display(description="monthly", ordering="monthly_fee")
    def monthly_cost(self, obj: PhoneNumber) -> str:
        return format_html('<span style="white-space:nowrap">{}</span>',
                           money(obj.monthly_fee, obj.currency))

    @admin.display(description="audit log")
    def audit_trail(self, obj: PhoneNumber) -> str:
        entries = list(audit_list(target=obj).select_related("actor")[:20])
        if not entries:
            return "—"
        return format_html_join(mark_safe("<br>"), "{} {}: {} {}", (
            (f"{e.created_at:%Y-%m-%d %H:%M}", e.actor or "system", e.action, e.note) for e in entries))

    @admin.action(description="Release selected numbers…", permissions=["change"])
    def release_numbers(self, request: HttpRequest, queryset):
        return admin_actions.release(self, request, queryset)

    @admin.action(description="Reassign selected numbers…", permissions=["change"])
    def reassign_numbers(self, request: HttpRequest, queryset):
        return admin_actions.reassign(self, request, queryset)

    @admin.action(description="Verify selected numbers with the provider", permissions=["view"])
    def verify_numbers(self, request: HttpRequest, queryset):
        return admin_actions.verify(self, request, queryset)

    @admin.action(description="Set as the org's system phone", permissions=["change"])
    def make_system_phone(self, request: HttpRequest, queryset):
        return admin_actions.set_system_phone(self, request, queryset)


class UnsettledFilter(admin.SimpleListFilter):
    """Purchase jobs that ended with their number still pending: the provider never told us whether
    the number was bought, so its hold is neither a charge nor refunded until they are settled."""

    title = "outcome"
    parameter_name = "unsettled"

    def lookups(self, request, model_admin):
        return [("yes", "Unsettled purchases (outcome unknown)")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(pk__in=purchase_jobs_unsettled().values("pk"))
        return queryset


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    list_display = ["public_id", "kind", "status_badge", "progress_bar", "org", "phone_number", "attempts",
                    "created_at", "finished_at", "error_code"]
    list_filter = [UnsettledFilter, "kind", "status", ("org", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["org", "phone_number"]
    search_fields = ["public_id", "org__slug", "phone_number__e164"]
    date_hierarchy = "created_at"
    actions = ["settle_purchases"]

    def has_settle_permission(self, request: HttpRequest) -> bool:
        # Settling moves money (a hold becomes a charge or is reversed): whoever may change numbers.
        return request.user.has_perm("phones.change_phonenumber")

    @admin.display(description="error")
    def error_code(self, obj: Job) -> str:
        return str(obj.error.get("code", "")) if obj.error else ""

    @admin.action(description="Settle selected purchases now (ask the provider)", permissions=["settle"])
    def settle_purchases(self, request: HttpRequest, queryset):
        return admin_actions.settle(self, request, queryset)

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Job) -> str:
        return badge(obj.status)

    @admin.display(description="progress", ordering="progress")
    def progress_bar(self, obj: Job) -> str:
        return format_html('<progress value="{}" max="100" style="width:90px"></progress> {}%', obj.progress,
                           obj.progress)


@admin.register(VerifyReport)
class VerifyReportAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "org", "job", "checked", "problems", "repaired"]
    list_filter = [("org", admin.RelatedOnlyFieldListFilter), "repaired"]
    list_select_related = ["org", "job"]
    search_fields = ["org__slug", "job__public_id"]

    @admin.display(description="checked")
    def checked(self, obj: VerifyReport) -> int:
        return obj.summary.get("checked", 0)

    @admin.display(description="problems")
    def problems(self, obj: VerifyReport) -> str:
        s = obj.summary
        count = s.get("drifted", 0) + s.get("overridden", 0) + s.get("missing", 0) + s.get("importable", 0)
        return badge("ok", "none") if not count else badge("drift", str(count))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        report = self.get_object(request, object_id)
        if report is None or not self.has_view_permission(request, report):
            return super().change_view(request, object_id, form_url, extra_context)
        return TemplateResponse(request, "admin/phones/phonenumber/verify_report.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "title": f"Verify report: {report}",
            "reports": [report], "failures": [], "repair": report.repaired, "stored": True})


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "org", "phone_number", "direction", "from_number", "to_number", "status",
                    "preview"]
    list_filter = ["direction", "status", ("org", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["org", "phone_number"]
    search_fields = ["provider_sid", "public_id", "from_number", "to_number", "body", "org__slug"]
    date_hierarchy = "created_at"

    @admin.display(description="body")
    def preview(self, obj: Message) -> str:
        return obj.body if len(obj.body) <= 60 else obj.body[:59] + "…"


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "org", "phone_number", "direction", "from_number", "to_number", "status_badge",
                    "duration"]
    list_filter = ["direction", "status", ("org", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["org", "phone_number"]
    search_fields = ["provider_sid", "public_id", "from_number", "to_number", "org__slug"]
    date_hierarchy = "created_at"

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Call) -> str:
        return badge({"completed": "ok", "in-progress": "running", "ringing": "running"}.get(obj.status, obj.status),
                     obj.status)
