"""Staff pages for money: prices (editable), balances with the top-up form, and read-only
ledger, usage and past-due lists. Money only moves through the services."""
from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from billing.models import LedgerEntry, OrgBalance, PastDueNumber, Price, UsageRecord
from billing.services import MAX_TOPUP, ledger_topup
from core.errors import DomainError
from orgs.admin import ReadOnlyAdmin
from orgs.audit import audit_list, audit_record
from orgs.models import Org
from phones.models import PhoneNumber


@admin.register(Price)
class PriceAdmin(admin.ModelAdmin):
    list_display = ["country", "number_type", "setup_fee", "monthly_fee", "currency", "updated_at"]
    list_editable = ["setup_fee", "monthly_fee"]
    list_filter = ["country", "number_type"]


class TopUpForm(forms.Form):
    org = forms.ModelChoiceField(queryset=Org.objects.order_by("slug"))
    amount = forms.IntegerField(min_value=1, max_value=MAX_TOPUP,
                                help_text="Minor units of the org's currency: 1000 is $10.00.")
    currency = forms.CharField(max_length=3, required=False, help_text="Leave blank for the org's currency.")
    reason = forms.CharField(max_length=200, help_text="Shown in the org's ledger, e.g. “Wire transfer 2025-02-03”.")
    # Generated when the form is shown, so submitting it twice tops up once.
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)


@admin.register(OrgBalance)
class OrgBalanceAdmin(ReadOnlyAdmin):
    list_display = ["org", "balance", "currency", "updated_at", "top_up_link"]
    list_select_related = ["org"]
    search_fields = ["org__slug", "org__name"]
    change_list_template = "admin/billing/orgbalance/change_list.html"

    def get_urls(self):
        return [path("top-up/", self.admin_site.admin_view(self.top_up_view), name="billing_orgbalance_topup"),
                *super().get_urls()]

    @admin.display(description="top up")
    def top_up_link(self, obj: OrgBalance) -> str:
        return format_html('<a href="{}?org={}">Top up</a>', reverse("admin:billing_orgbalance_topup"), obj.org_id)

    def can_top_up(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff and request.user.has_perm("billing.change_orgbalance")

    def top_up_view(self, request: HttpRequest) -> HttpResponse:
        if not self.can_top_up(request):
            raise PermissionDenied
        if request.method == "POST":
            form = TopUpForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    entry = ledger_topup(org=data["org"], amount=data["amount"], currency=data["currency"] or None,
                                         reason=data["reason"], created_by=request.user, key=data["key"])
                except DomainError as exc:
                    form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                else:
                    if not audit_list(target=entry).exists():  # the same form sent twice is one top-up
                        audit_record(actor=request.user, org=entry.org, action="billing.topup", target=entry,
                                     before={"balance": entry.balance_after - entry.amount},
                                     after={"balance": entry.balance_after, "amount": entry.amount,
                                            "currency": entry.currency}, note=data["reason"])
                    self.message_user(request, f"Topped up {entry.org} by {entry.amount} {entry.currency} "
                                               f"(minor units); balance now {entry.balance_after}.", messages.SUCCESS)
                    return HttpResponseRedirect(reverse("admin:billing_orgbalance_changelist"))
        else:
            form = TopUpForm(initial={"org": request.GET.get("org"), "key": uuid.uuid4().hex})
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "title": "Top up a balance"}
        return TemplateResponse(request, "admin/billing/topup.html", context)

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}), "can_top_up": self.can_top_up(request)})


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "org", "kind", "amount", "balance_after", "currency", "description", "key"]
    list_filter = ["kind", "created_at"]
    list_select_related = ["org"]
    search_fields = ["key", "public_id", "description", "org__slug", "phone_number__e164"]
    date_hierarchy = "created_at"


@admin.register(UsageRecord)
class UsageRecordAdmin(ReadOnlyAdmin):
    list_display = ["period", "org", "kind", "quantity", "phone_number", "key", "created_at"]
    list_filter = ["kind", "period"]
    list_select_related = ["org", "phone_number"]
    search_fields = ["key", "org__slug", "phone_number__e164"]


@admin.register(PastDueNumber)
class PastDueNumberAdmin(ReadOnlyAdmin):
    """Numbers whose renewal failed for lack of money. They are never released automatically:
    the renewal retries them every run, so a top-up is all it takes."""

    list_display = ["e164", "org", "monthly_fee", "currency", "next_billing_date", "days_overdue"]
    list_select_related = ["org"]
    search_fields = ["e164", "public_id", "org__slug"]
    ordering = ["next_billing_date", "id"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=PhoneNumber.Status.PAST_DUE)

    @admin.display(description="days overdue")
    def days_overdue(self, obj: PhoneNumber) -> int:
        return (timezone.localdate() - obj.next_billing_date).days if obj.next_billing_date else 0
