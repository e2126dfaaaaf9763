"""Staff pages for broadcasts: the list with progress bars, pause and cancel (the services the API
calls), each broadcast's recipients (the drill-down), and a CSV export of the results.

The list counts each page's recipients in the same query (annotations), so a page of 50 costs the
same as a page of 1."""
from __future__ import annotations

import csv

from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html

from core.display import money
from core.errors import DomainError
from orgs.admin import ReadOnlyAdmin
from phones.broadcasts import services
from phones.broadcasts.models import Broadcast, BroadcastRecipient

RStatus = BroadcastRecipient.Status
COLOURS = {"sending": "#1a56c4", "scheduled": "#8a5a00", "paused": "#8a5a00", "completed": "#137333",
           "canceled": "#5f6368"}


@admin.register(Broadcast)
class BroadcastAdmin(admin.ModelAdmin):
    list_display = ["name", "org", "status_label", "progress_bar", "sent_count", "failed_count", "opted_out",
                    "estimate", "settled", "recipients_link", "created_at"]
    list_filter = ["status", ("org", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["org"]
    search_fields = ["name", "public_id", "org__slug"]
    list_per_page = 50
    actions = ["pause_broadcasts", "cancel_broadcasts", "export_results"]
    readonly_fields = ["public_id", "org", "connection", "name", "body", "media_urls", "senders",
                       "messaging_service_sid", "sender_rates", "scheduled_at", "quiet_start", "quiet_end", "status",
                       "total_rows", "invalid_count", "invalid_rows", "duplicate_count", "opted_out_count",
                       "recipient_count", "segments_total", "encoding", "non_gsm_char", "currency", "unit_price",
                       "estimated_cost", "settled_cost", "created_by", "created_at", "started_at", "finished_at"]
    fields = readonly_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Broadcast]:
        return super().get_queryset(request).annotate(
            n_done=Count("recipients", filter=Q(recipients__status__in=BroadcastRecipient.DONE)),
            n_sent=Count("recipients", filter=Q(recipients__status=RStatus.SENT)),
            n_failed=Count("recipients", filter=Q(recipients__status=RStatus.FAILED)))

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="status", ordering="status")
    def status_label(self, obj: Broadcast) -> str:
        return format_html('<b style="color:{}">{}</b>', COLOURS.get(obj.status, "#3c4043"), obj.status)

    @admin.display(description="progress")
    def progress_bar(self, obj: Broadcast) -> str:
        percent = 100 * obj.n_done // obj.recipient_count if obj.recipient_count else 100
        return format_html(
            '<div title="{} of {}" style="width:140px;background:#e8eaed;border-radius:4px">'
            '<div style="width:{}%;background:#1a73e8;color:#fff;font-size:11px;padding:1px 4px;'
            'border-radius:4px;white-space:nowrap">{}%</div></div>', obj.n_done, obj.recipient_count, percent, percent)

    @admin.display(description="sent")
    def sent_count(self, obj: Broadcast) -> int:
        return obj.n_sent

    @admin.display(description="failed")
    def failed_count(self, obj: Broadcast) -> int:
        return obj.n_failed

    @admin.display(description="opted out")
    def opted_out(self, obj: Broadcast) -> int:
        return obj.opted_out_count

    @admin.display(description="held")
    def estimate(self, obj: Broadcast) -> str:
        return money(obj.estimated_cost, obj.currency)

    @admin.display(description="settled")
    def settled(self, obj: Broadcast) -> str:
        return money(obj.settled_cost, obj.currency) if obj.settled_cost is not None else "–"

    @admin.display(description="recipients")
    def recipients_link(self, obj: Broadcast) -> str:
        url = reverse("admin:broadcasts_broadcastrecipient_changelist") + f"?broadcast__id__exact={obj.pk}"
        return format_html('<a href="{}">{} →</a>', url, obj.recipient_count)

    def _each(self, request: HttpRequest, queryset: QuerySet[Broadcast], run, done: str) -> None:
        changed = 0
        for broadcast in queryset:
            try:
                run(broadcast=broadcast)
                changed += 1
            except DomainError as exc:
                self.message_user(request, f"{broadcast.name}: {exc}", messages.WARNING)
        if changed:
            self.message_user(request, f"{changed} broadcast(s) {done}.", messages.SUCCESS)

    @admin.action(description="Pause the selected broadcasts", permissions=["change"])
    def pause_broadcasts(self, request: HttpRequest, queryset: QuerySet[Broadcast]) -> None:
        self._each(request, queryset, services.broadcast_pause, "paused")

    @admin.action(description="Cancel the selected broadcasts (the hold is settled)", permissions=["change"])
    def cancel_broadcasts(self, request: HttpRequest, queryset: QuerySet[Broadcast]) -> None:
        self._each(request, queryset, services.broadcast_cancel, "canceled")

    @admin.action(description="Export the results as CSV")
    def export_results(self, request: HttpRequest, queryset: QuerySet[Broadcast]) -> HttpResponse:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="broadcast-results.csv"'
        writer = csv.writer(response)
        writer.writerow(["broadcast", "name", "row", "phone", "status", "delivery", "error_code", "error",
                         "segments", "sender", "attempts", "sent_at"])
        rows = (BroadcastRecipient.objects.filter(broadcast__in=queryset)
                .select_related("broadcast", "message").order_by("broadcast_id", "row"))
        for r in rows.iterator(chunk_size=2000):
            delivery = r.message.status if r.message else ""
            code = (r.message.error_code if r.message and r.message.error_code else r.error_code)
            writer.writerow([r.broadcast.public_id, r.broadcast.name, r.row, r.e164, r.status, delivery, code,
                             r.error_message, r.segments, r.sender, r.attempts,
                             r.sent_at.isoformat() if r.sent_at else ""])
        return response


@admin.register(BroadcastRecipient)
class BroadcastRecipientAdmin(ReadOnlyAdmin):
    """One broadcast's recipients (reached from its row in the broadcasts list)."""

    list_display = ["row", "e164", "broadcast", "status", "delivery", "error", "attempts", "sender", "sent_at",
                    "next_attempt_at"]
    list_filter = ["status", "broadcast"]
    list_select_related = ["broadcast", "message"]
    search_fields = ["e164", "broadcast__public_id", "broadcast__name"]
    ordering = ["broadcast_id", "row"]
    list_per_page = 100
    show_full_result_count = False

    @admin.display(description="delivery")
    def delivery(self, obj: BroadcastRecipient) -> str:
        return obj.message.status if obj.message else "–"

    @admin.display(description="error")
    def error(self, obj: BroadcastRecipient) -> str:
        code = obj.message.error_code if obj.message and obj.message.error_code else obj.error_code
        return f"{code} {obj.error_message}".strip() or "–"
