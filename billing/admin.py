"""Staff pages for money: prices (editable, and imported from a provider with a markup), balances
with the top-up form, and read-only ledger (filtered by org, exported as CSV), usage and past-due
lists. Money only moves through the
services. Amounts are stored in minor units and always shown, and typed, in major units with
their currency (core.display.money, orgs.admin.MoneyField)."""
from __future__ import annotations

import csv
import uuid
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from billing.models import LedgerEntry, OrgBalance, PastDueNumber, Price, UsageRecord
from billing.pricing import prices_import
from billing.services import MAX_TOPUP, ledger_topup
from core.display import major_units, money
from core.errors import DomainError
from orgs.admin import MoneyField, NumberSearchMixin, ReadOnlyAdmin
from orgs.audit import audit_list, audit_record
from orgs.models import Org, ProviderConnection
from orgs.selectors import phone_connections
from phones.models import PhoneNumber
from providers.base import ProviderError

# A price above this is a typo (the stored fields would take up to 42 million).
MAX_PRICE = 100_000_00


class PriceForm(forms.ModelForm):
    setup_fee = MoneyField(maximum=MAX_PRICE, allow_zero=True, help_text="In the price's currency, e.g. 1.00.")
    monthly_fee = MoneyField(maximum=MAX_PRICE, allow_zero=True, help_text="In the price's currency, e.g. 1.15.")

    class Meta:
        model = Price
        fields = ["country", "number_type", "setup_fee", "monthly_fee", "currency"]


class PriceImportForm(forms.Form):
    connection = forms.ModelChoiceField(
        queryset=ProviderConnection.objects.none(),
        help_text="The provider account whose price list is read (Twilio Pricing v1).")
    countries = forms.CharField(max_length=2000, help_text="ISO codes, comma-separated (GB, DE, FR), or “all” for "
                                                           "every country the provider prices.")
    markup = forms.DecimalField(min_value=0, max_value=1000, decimal_places=2, initial=20,
                                help_text="Percent added to the provider's monthly price, rounded up to the cent.")
    dry_run = forms.BooleanField(required=False, help_text="Show what would change; write nothing.")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Phone connections only (an AI connection has no number prices).
        self.fields["connection"].queryset = phone_connections().select_related("org").order_by("org__slug", "name")


@admin.register(Price)
class PriceAdmin(admin.ModelAdmin):
    form = PriceForm
    list_display = ["country", "number_type", "setup_fee", "monthly_fee", "currency", "provider_cost",
                    "markup_percent", "imported_at", "updated_at"]
    list_editable = ["setup_fee", "monthly_fee"]
    list_filter = ["country", "number_type", ("imported_at", admin.EmptyFieldListFilter)]
    readonly_fields = ["provider_cost", "markup_percent", "imported_at"]
    change_list_template = "admin/billing/price/change_list.html"
    actions = ["reimport"]

    def get_changelist_form(self, request, **kwargs):
        return super().get_changelist_form(request, form=PriceForm, **kwargs)

    def save_model(self, request, obj, form, change):
        if change and "monthly_fee" in form.changed_data:
            obj.markup_percent = None  # set by hand: no longer the import's markup
        super().save_model(request, obj, form, change)

    def get_urls(self):
        return [path("import/", self.admin_site.admin_view(self.import_view), name="billing_price_import"),
                *super().get_urls()]

    def can_import(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff and request.user.has_perm("billing.change_price") \
            and request.user.has_perm("billing.add_price")

    @admin.action(description="Re-import the selected countries from a provider", permissions=["change"])
    def reimport(self, request: HttpRequest, queryset):
        countries = ",".join(sorted(set(queryset.values_list("country", flat=True))))
        return HttpResponseRedirect(f"{reverse('admin:billing_price_import')}?{urlencode({'countries': countries})}")

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Import the provider's number prices (billing.pricing.prices_import) with a markup."""
        if not self.can_import(request):
            raise PermissionDenied
        result = None
        if request.method == "POST":
            form = PriceImportForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                wanted = data["countries"].strip()
                try:
                    result = prices_import(connection=data["connection"],
                                           countries=None if wanted.lower() == "all" else wanted,
                                           markup=data["markup"], actor=request.user, dry_run=data["dry_run"])
                except DomainError as exc:
                    form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                except ProviderError as exc:
                    form.add_error("connection", f"The provider failed: {exc.message}")
                else:
                    if not data["dry_run"]:
                        self.message_user(request, f"Prices imported: {result.summary()}.", messages.SUCCESS)
                        return HttpResponseRedirect(reverse("admin:billing_price_changelist"))
        else:
            form = PriceImportForm(initial={"countries": request.GET.get("countries", "")})
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "title": "Import prices from a provider", "result": result}
        return TemplateResponse(request, "admin/billing/price/import.html", context)

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}), "can_import": self.can_import(request)})


class TopUpForm(forms.Form):
    org = forms.ModelChoiceField(queryset=Org.objects.order_by("slug"))
    amount = MoneyField(maximum=MAX_TOPUP, help_text=f"In the org's currency, e.g. 10.50 (at most two decimals, "
                                                     f"up to {major_units(MAX_TOPUP)}).")
    currency = forms.CharField(max_length=3, required=False, help_text="Leave blank for the org's currency.")
    reason = forms.CharField(max_length=200, help_text="Shown in the org's ledger, e.g. “Wire transfer 2025-02-03”.")
    # Generated when the form is shown, so submitting it twice tops up once.
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)


@admin.register(OrgBalance)
class OrgBalanceAdmin(ReadOnlyAdmin):
    list_display = ["org", "amount", "updated_at", "top_up_link"]
    list_select_related = ["org"]
    search_fields = ["org__slug", "org__name"]
    change_list_template = "admin/billing/orgbalance/change_list.html"

    def get_urls(self):
        return [path("top-up/", self.admin_site.admin_view(self.top_up_view), name="billing_orgbalance_topup"),
                *super().get_urls()]

    @admin.display(description="balance", ordering="balance")
    def amount(self, obj: OrgBalance) -> str:
        return money(obj.balance, obj.currency)

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
                    self.message_user(request, f"Topped up {entry.org} by {money(entry.amount, entry.currency)}; "
                                               f"balance now {money(entry.balance_after, entry.currency)}.",
                                      messages.SUCCESS)
                    return HttpResponseRedirect(reverse("admin:billing_orgbalance_changelist"))
        else:
            form = TopUpForm(initial={"org": request.GET.get("org"), "key": uuid.uuid4().hex})
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "title": "Top up a balance"}
        return TemplateResponse(request, "admin/billing/topup.html", context)

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}), "can_top_up": self.can_top_up(request)})


def _ledger_row(entry: LedgerEntry) -> list[str]:
    return [entry.created_at.isoformat(), entry.public_id, entry.org.slug, entry.kind, major_units(entry.amount),
            major_units(entry.balance_after), entry.currency, entry.phone_number.e164 if entry.phone_number else "",
            entry.description, entry.key]


LEDGER_CSV_HEADER = ["created_at", "id", "org", "kind", "amount", "balance_after", "currency", "phone_number",
                     "description", "key"]


class _Echo:
    """csv.writer's file: each row is handed back to be streamed, never held in memory."""

    def write(self, value: str) -> str:
        return value


def ledger_csv(entries) -> StreamingHttpResponse:
    """Stream entries as CSV (amounts in major units, as on the page), read from the database in
    chunks (iterator), so an export of a whole year costs no more memory than a page."""
    writer = csv.writer(_Echo())
    rows = (writer.writerow(_ledger_row(e)) for e in entries.select_related("org", "phone_number").iterator(2000))
    response = StreamingHttpResponse(_chain([writer.writerow(LEDGER_CSV_HEADER)], rows), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="ledger-{timezone.localdate():%Y%m%d}.csv"'
    return response


def _chain(first, rest):
    yield from first
    yield from rest


@admin.register(LedgerEntry)
class LedgerEntryAdmin(NumberSearchMixin, ReadOnlyAdmin):
    list_display = ["created_at", "org", "kind", "amount_display", "balance_display", "number", "description",
                    "key"]
    list_filter = [("org", admin.RelatedOnlyFieldListFilter), "kind", "currency", "created_at"]
    list_select_related = ["org", "phone_number"]
    search_fields = ["key", "public_id", "description", "org__slug", "phone_number__e164"]
    number_search_fields = ("phone_number__e164",)
    date_hierarchy = "created_at"
    change_list_template = "admin/billing/ledgerentry/change_list.html"
    actions = ["export_csv"]

    def get_urls(self):
        return [path("export.csv", self.admin_site.admin_view(self.export_view), name="billing_ledgerentry_export"),
                *super().get_urls()]

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, obj: LedgerEntry) -> str:
        return format_html('<span style="white-space:nowrap">{}</span>', money(obj.amount, obj.currency))

    @admin.display(description="balance after", ordering="balance_after")
    def balance_display(self, obj: LedgerEntry) -> str:
        return format_html('<span style="white-space:nowrap">{}</span>', money(obj.balance_after, obj.currency))

    @admin.display(description="number", ordering="phone_number__e164")
    def number(self, obj: LedgerEntry) -> str:
        return obj.phone_number.e164 if obj.phone_number else "—"

    @admin.action(description="Export selected entries as CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset):
        return ledger_csv(queryset.order_by("created_at", "id"))

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """The whole changelist as it is filtered and searched now (the link passes its query string)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        return ledger_csv(changelist.get_queryset(request).order_by("created_at", "id"))


@admin.register(UsageRecord)
class UsageRecordAdmin(NumberSearchMixin, ReadOnlyAdmin):
    list_display = ["period", "org", "kind", "quantity", "phone_number", "key", "created_at"]
    list_filter = ["kind", "period"]
    list_select_related = ["org", "phone_number"]
    search_fields = ["key", "org__slug", "phone_number__e164"]
    number_search_fields = ("phone_number__e164",)


@admin.register(PastDueNumber)
class PastDueNumberAdmin(NumberSearchMixin, ReadOnlyAdmin):
    """Numbers whose renewal failed for lack of money. They are never released automatically:
    the renewal retries them every run, so a top-up is all it takes."""

    list_display = ["e164", "org", "monthly", "next_billing_date", "days_overdue"]
    list_select_related = ["org"]
    search_fields = ["e164", "public_id", "org__slug"]
    number_search_fields = ("e164",)
    ordering = ["next_billing_date", "id"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=PhoneNumber.Status.PAST_DUE)

    @admin.display(description="monthly", ordering="monthly_fee")
    def monthly(self, obj: PhoneNumber) -> str:
        return money(obj.monthly_fee, obj.currency)

    @admin.display(description="days overdue")
    def days_overdue(self, obj: PhoneNumber) -> int:
        return (timezone.localdate() - obj.next_billing_date).days if obj.next_billing_date else 0
