"""Staff pages for numbers and their traffic: the numbers list with its actions, and read-only
jobs (with progress), verify reports, messages and calls. Every list selects its related rows
in the one query (list_select_related), so a page of 100 costs the same as a page of 1."""
from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from billing.models import LedgerEntry
from core.display import formatted_number, money
from orgs.admin import NumberSearchMixin, ReadOnlyAdmin
from orgs.audit import audit_list
from orgs.models import ProviderConnection
from phones.admin import actions as admin_actions
from phones.admin import dashboard, detail
from phones.models import Agent, Call, Job, Message, PhoneNumber, Recording, VerifyReport
from phones.numbers.selectors import purchase_jobs_unsettled
from phones.recordings import signing

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
class PhoneNumberAdmin(NumberSearchMixin, admin.ModelAdmin):
    # Narrow columns (the system phone is a mark on its number, providers by short name, ISO dates),
    # so the list fits a 1400 px window beside the navigation and the filters.
    list_display = ["number", "name", "org", "status_badge", "routing_label", "provider", "monthly_cost",
                    "next_bill"]
    list_display_links = ["number"]
    list_filter = [("org", admin.RelatedOnlyFieldListFilter), "status", "routing_mode", ProviderFilter,
                   "is_system", PastDueFilter, "number_type", "country"]
    list_select_related = ["org", "connection"]
    search_fields = ["e164", "friendly_name", "public_id", "provider_sid", "org__slug", "purpose"]
    number_search_fields = ("e164",)
    ordering = ["org__slug", "e164"]
    list_per_page = 50
    actions = ["release_numbers", "reassign_numbers", "verify_numbers", "make_system_phone"]
    change_form_template = "admin/phones/phonenumber/change_form.html"
    fieldsets = [
        (None, {"fields": ["number", "status_badge", "org", "connection", "friendly_name", "purpose", "is_system",
                           "public_id", "provider_sid", "location"]}),
        ("Capabilities", {"fields": ["voice", "sms", "mms"]}),
        ("Webhooks", {"fields": ["voice_url", "voice_fallback_url", "sms_url", "status_callback"],
                      "description": "Where the provider sends this number's calls and texts, as last read "
                                     "from the provider (Verify reads them again)."}),
        ("Routing", {"fields": ["routing_mode", "voice_assignments", "ivr", "agent", "trunk", "trunk_status"],
                     "description": "An agent answers the calls and texts (Reassign… to change it)."}),
        ("SMS rules", {"fields": ["rules"], "description": "Tried in this order on every inbound text, "
                                                           "after the opt-out keywords."}),
        ("Configuration", {"fields": ["settings"]}),
        ("Billing", {"fields": ["setup_cost", "monthly_cost", "purchased_at", "next_billing_date", "released_at",
                                "missing_since"]}),
        ("Activity", {"fields": ["related"]}),
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

    def get_object(self, request, object_id, from_field=None):
        # The page's documents and links in the one query: routing is a one-to-one row.
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj = (PhoneNumber.objects.select_related("org", "connection", "created_by", "routing", "agent")
                   .filter(pk=obj.pk).first())
        return obj

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Every field is read-only (changes go through the actions), so the page has no Save
        # buttons; it has the actions as buttons instead (change_form.html).
        obj = self.get_object(request, object_id)
        can_change = obj is not None and self.has_change_permission(request, obj)
        context = {"show_save": False, "show_save_and_continue": False, "show_save_and_add_another": False,
                   "show_delete": False, "show_close": True, "number_actions": [
                       ("release_numbers", "Release…", can_change and obj.status in (
                           PhoneNumber.Status.ACTIVE, PhoneNumber.Status.PAST_DUE)),
                       ("verify_numbers", "Verify with the provider", obj is not None and obj.status in
                        PhoneNumber.LIVE_STATUSES + (PhoneNumber.Status.MISSING,)),
                       ("reassign_numbers", "Reassign…", can_change and obj.status == PhoneNumber.Status.ACTIVE),
                   ]}
        return super().change_view(request, object_id, form_url, {**context, **(extra_context or {})})

    @admin.display(description="number", ordering="e164")
    def number(self, obj: PhoneNumber) -> str:
        system = mark_safe(' <span title="the org\'s system phone" class="system-mark" style="font-size:.75em;'
                           'font-weight:600;color:#1a56c4">SYSTEM</span>') if obj.is_system else ""
        return format_html('<span style="white-space:nowrap">{}</span>{}', formatted_number(obj.e164), system)

    @admin.display(description="name", ordering="friendly_name")
    def name(self, obj: PhoneNumber) -> str:
        return obj.friendly_name

    @admin.display(description="routing", ordering="routing_mode")
    def routing_label(self, obj: PhoneNumber) -> str:
        return obj.get_routing_mode_display()

    @admin.display(description="next bill", ordering="next_billing_date")
    def next_bill(self, obj: PhoneNumber) -> str:
        return obj.next_billing_date.isoformat() if obj.next_billing_date else "—"

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: PhoneNumber) -> str:
        return badge(obj.status, obj.get_status_display())

    @admin.display(description="provider", ordering="connection__type")
    def provider(self, obj: PhoneNumber) -> str:
        return obj.connection.get_type_display().split(" (")[0]

    @admin.display(description="monthly", ordering="monthly_fee")
    def monthly_cost(self, obj: PhoneNumber) -> str:
        return format_html('<span style="white-space:nowrap">{}</span>',
                           money(obj.monthly_fee, obj.currency))

    @admin.display(description="location")
    def location(self, obj: PhoneNumber) -> str:
        place = ", ".join(p for p in [obj.locality, obj.region, obj.country] if p)
        return f"{place} · {obj.get_number_type_display()}"

    @admin.display(description="Voice")
    def voice(self, obj: PhoneNumber) -> str:
        return detail.yes_no((obj.capabilities or {}).get("voice", False))

    @admin.display(description="SMS")
    def sms(self, obj: PhoneNumber) -> str:
        return detail.yes_no((obj.capabilities or {}).get("sms", False))

    @admin.display(description="MMS")
    def mms(self, obj: PhoneNumber) -> str:
        return detail.yes_no((obj.capabilities or {}).get("mms", False))

    @admin.display(description="Voice URL")
    def voice_url(self, obj: PhoneNumber) -> str:
        return detail.webhook(obj.webhooks, "voiceUrl", "voiceMethod")

    @admin.display(description="Voice fallback URL")
    def voice_fallback_url(self, obj: PhoneNumber) -> str:
        return detail.webhook(obj.webhooks, "voiceFallbackUrl", None)

    @admin.display(description="SMS URL")
    def sms_url(self, obj: PhoneNumber) -> str:
        return detail.webhook(obj.webhooks, "smsUrl", "smsMethod")

    @admin.display(description="Status callback")
    def status_callback(self, obj: PhoneNumber) -> str:
        return detail.webhook(obj.webhooks, "statusCallback", "statusCallbackMethod")

    @staticmethod
    def _routing(obj: PhoneNumber):
        try:
            return obj.routing
        except PhoneNumber.routing.RelatedObjectDoesNotExist:
            return None

    @admin.display(description="voice assignments")
    def voice_assignments(self, obj: PhoneNumber) -> str:
        routing = self._routing(obj)
        return detail.assignments(routing.assignments if routing else [])

    @admin.display(description="IVR flow")
    def ivr(self, obj: PhoneNumber) -> str:
        routing = self._routing(obj)
        return detail.ivr_flow(routing.ivr_flow if routing else {})

    @admin.display(description="rules")
    def rules(self, obj: PhoneNumber) -> str:
        routing = self._routing(obj)
        return detail.sms_rules(routing.sms_rules if routing else [])

    @admin.display(description="settings")
    def settings(self, obj: PhoneNumber) -> str:
        return detail.readable(obj.configuration)

    @admin.display(description="setup fee", ordering="setup_fee")
    def setup_cost(self, obj: PhoneNumber) -> str:
        return money(obj.setup_fee, obj.currency)

    @admin.display(description="records")
    def related(self, obj: PhoneNumber) -> str:
        """Links to the number's rows in the other lists, filtered, with their counts (one query each)."""
        def url(name: str, query: str) -> str:
            return reverse(f"admin:{name}_changelist") + "?" + query

        by_number = f"phone_number__id__exact={obj.pk}"
        return detail.links([
            ("Messages", url("phones_message", by_number), Message.objects.filter(phone_number=obj).count()),
            ("Calls", url("phones_call", by_number), Call.objects.filter(phone_number=obj).count()),
            ("Recordings", url("phones_recording", f"call__phone_number__id__exact={obj.pk}"),
             Recording.objects.filter(call__phone_number=obj).count()),
            ("Jobs", url("phones_job", by_number), Job.objects.filter(phone_number=obj).count()),
            ("Ledger entries", url("billing_ledgerentry", by_number),
             LedgerEntry.objects.filter(phone_number=obj).count()),
            ("Audit entries", url("telephony_auditlog", f"target_type=phones.phonenumber&target_id={obj.public_id}"),
             audit_list(target=obj).count()),
        ])

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
class JobAdmin(NumberSearchMixin, ReadOnlyAdmin):
    list_display = ["public_id", "kind", "status_badge", "progress_bar", "org", "phone_number", "attempts",
                    "created_at", "finished_at", "error_code"]
    list_filter = [UnsettledFilter, "kind", "status", ("org", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["org", "phone_number"]
    search_fields = ["public_id", "org__slug", "phone_number__e164"]
    number_search_fields = ("phone_number__e164",)
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
class MessageAdmin(NumberSearchMixin, ReadOnlyAdmin):
    list_display = ["created_at", "org", "phone_number", "direction", "from_number", "to_number", "status",
                    "preview"]
    list_filter = ["direction", "status", ("org", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["org", "phone_number"]
    search_fields = ["provider_sid", "public_id", "from_number", "to_number", "body", "org__slug"]
    number_search_fields = ("from_number", "to_number", "phone_number__e164")
    date_hierarchy = "created_at"

    @admin.display(description="body")
    def preview(self, obj: Message) -> str:
        return obj.body if len(obj.body) <= 60 else obj.body[:59] + "…"


@admin.register(Agent)
class AgentAdmin(ReadOnlyAdmin):
    """The orgs' AI agents (their owners manage them through /agents; staff attach numbers with the
    numbers' Reassign… action)."""

    list_display = ["name", "org", "connection", "voice", "model", "language", "max_call_seconds", "created_at"]
    list_filter = [("org", admin.RelatedOnlyFieldListFilter), "voice"]
    list_select_related = ["org", "connection"]
    search_fields = ["name", "public_id", "org__slug"]


@admin.register(Call)
class CallAdmin(NumberSearchMixin, ReadOnlyAdmin):
    list_display = ["created_at", "org", "phone_number", "direction", "from_number", "to_number", "status_badge",
                    "duration", "agent", "ai_status", "ai_seconds"]
    list_filter = ["direction", "status", "ai_status", ("org", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["org", "phone_number", "agent"]
    search_fields = ["provider_sid", "public_id", "from_number", "to_number", "org__slug"]
    number_search_fields = ("from_number", "to_number", "phone_number__e164")
    date_hierarchy = "created_at"

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: Call) -> str:
        return badge({"completed": "ok", "in-progress": "running", "ringing": "running"}.get(obj.status, obj.status),
                     obj.status)


@admin.register(Recording)
class RecordingAdmin(NumberSearchMixin, ReadOnlyAdmin):
    """Recordings with a player: the audio streams through the same short-lived signed link the API
    gives (phones.recordings.signing), never the provider's own URL."""

    list_display = ["created_at", "org", "call_number", "status", "duration", "transcription_status", "player"]
    list_filter = ["status", "transcription_status", ("org", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["org", "phone_number", "call__phone_number"]
    search_fields = ["public_id", "provider_sid", "call_sid", "org__slug", "transcription_text"]
    number_search_fields = ("phone_number__e164", "call__phone_number__e164")
    date_hierarchy = "created_at"
    fields = ["public_id", "org", "phone_number", "call", "connection", "provider_sid", "call_sid", "status",
              "duration", "player", "transcription_status", "transcription", "delete_error", "created_at",
              "updated_at"]
    readonly_fields = ["player", "transcription"]

    def lookup_allowed(self, lookup, value, request=None):
        # A number's page links here filtered by the number its call was on.
        return lookup == "call__phone_number__id__exact" or super().lookup_allowed(lookup, value, request)

    @admin.display(description="number", ordering="phone_number__e164")
    def call_number(self, obj: Recording) -> str:
        number = obj.phone_number or (obj.call.phone_number if obj.call else None)
        return number.e164 if number else "—"

    @admin.display(description="recording")
    def player(self, obj: Recording) -> str:
        if obj.status and obj.status != "completed":
            return format_html('<span class="quiet">{}</span>', obj.status)
        url, _ = signing.media_url(obj.public_id)
        return format_html('<audio class="recording-player" controls preload="none" src="{}"></audio>', url)

    @admin.display(description="transcription")
    def transcription(self, obj: Recording) -> str:
        if not obj.transcription_text:
            return format_html('<span class="quiet">{}</span>', obj.transcription_status or "none")
        return format_html('<blockquote class="transcription" style="margin:0;white-space:pre-wrap">{}</blockquote>',
                           obj.transcription_text)


dashboard.install(admin.site)
