from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from core.display import e164_from_search, major_units, minor_units, money
from orgs import services
from orgs.audit import audit_record
from orgs.models import AuditLog, Membership, Org, OrgAPIKey, ProviderConnection
from phones.models import PhoneNumber
from providers.base import ProviderError
from providers.registry import kind_for, provider_for


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class ConnectionInline(admin.TabularInline):
    model = ProviderConnection
    extra = 0
    fields = ["name", "type", "account_id", "is_active", "created_at"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


class MoneyField(forms.CharField):
    """An amount typed in major units ("10.50") and cleaned to minor units (1050), the integers
    billing stores: at most two decimals, positive (or zero when allowed), at most `maximum`."""

    def __init__(self, *, maximum: int | None = None, allow_zero: bool = False, **kwargs) -> None:
        self.maximum, self.allow_zero = maximum, allow_zero
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "size": 12,
                                                           "placeholder": "0.00"}))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        # The stored integer shown as it is typed; what staff typed is shown back as typed.
        return major_units(value) if isinstance(value, int) else value

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            return minor_units(value, maximum=self.maximum, allow_zero=self.allow_zero)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid") from None


class NumberSearchMixin:
    """Search finds a number however it is written: `+1 415-517-5410`, `(415) 517-5410` and
    `4155175410` all find +14155175410 in `number_search_fields`, besides the usual text search."""

    number_search_fields: tuple[str, ...] = ()

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        e164 = e164_from_search(search_term) if self.number_search_fields else None
        if e164:
            matching = Q()
            for field in self.number_search_fields:
                matching |= Q(**{field: e164})
            results = results | queryset.filter(matching)
        return results, may_have_duplicates


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable, never added, changed or deleted through the admin."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Org)
class OrgAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "members", "live_numbers", "balance", "created_at"]
    search_fields = ["slug", "name"]
    list_select_related = ["billing_balance"]
    readonly_fields = ["balance"]
    inlines = [MembershipInline, ConnectionInline]

    def get_queryset(self, request):
        # Counts in the list's one query, not one query per row.
        return super().get_queryset(request).annotate(
            member_count=Count("memberships", distinct=True),
            live_count=Count("phone_numbers", distinct=True, filter=Q(
                phone_numbers__status__in=PhoneNumber.LIVE_STATUSES)))

    @admin.display(description="members", ordering="member_count")
    def members(self, obj: Org) -> int:
        return obj.member_count

    @admin.display(description="live numbers", ordering="live_count")
    def live_numbers(self, obj: Org) -> str:
        url = reverse("admin:phones_phonenumber_changelist") + f"?org__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.live_count)

    @admin.display(description="balance", ordering="billing_balance__balance")
    def balance(self, obj: Org) -> str:
        top_up = reverse("admin:billing_orgbalance_topup") + f"?org={obj.pk}"
        balance = getattr(obj, "billing_balance", None)
        amount = money(balance.balance, balance.currency) if balance else money(0, obj.currency)
        return format_html('{} <a href="{}">Top up</a>', amount, top_up)


@admin.register(ProviderConnection)
class ProviderConnectionAdmin(admin.ModelAdmin):
    """Secrets never leave the database through the admin: only the masked form is shown."""

    list_display = ["name", "org", "type", "account_id", "is_active", "created_at"]
    list_filter = ["type", "is_active"]
    list_select_related = ["org"]
    search_fields = ["name", "account_id", "org__slug", "public_id"]
    fields = ["public_id", "org", "type", "name", "account_id", "masked_credentials", "public_config", "is_active",
              "created_at", "updated_at"]
    readonly_fields = ["public_id", "org", "type", "account_id", "masked_credentials", "created_at", "updated_at"]
    actions = ["test_credentials"]

    def has_add_permission(self, request):
        # Credentials must be checked with the provider before saving: that is the API's job.
        return False

    @admin.display(description="credentials")
    def masked_credentials(self, obj: ProviderConnection) -> str:
        return ", ".join(f"{key}: {value}" for key, value in obj.masked_credentials().items()) or "—"

    @admin.action(description="Test credentials with the provider", permissions=["view"])
    def test_credentials(self, request: HttpRequest, queryset) -> None:
        for connection in queryset.select_related("org"):
            kind = kind_for(connection.type)
            try:
                if kind.ai is not None:  # an AI connection: checked as when it was saved
                    account = kind.ai.check(connection.credentials, connection.public_config)
                else:
                    account = provider_for(connection).validate_credentials()
            except (ProviderError, KeyError) as exc:
                message = exc.message if isinstance(exc, ProviderError) else f"credentials lack {exc}"
                result = {"ok": False, "error": message}
                self.message_user(request, f"{connection}: the provider refused — {message}", messages.ERROR)
            else:
                result = {"ok": True, "accountId": account.account_id, "accountStatus": account.status}
                self.message_user(request, f"{connection}: credentials work (account {account.account_id}, "
                                           f"{account.status or 'status unknown'}).", messages.SUCCESS)
            audit_record(actor=request.user, org=connection.org, action="connection.test_credentials",
                         target=connection, after=result)


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    """Read-only: the record of what staff, API users (purchases and releases) and verify's repairs
    did, never edited. A number's page links here filtered by target_type and target_id."""

    list_display = ["created_at", "actor", "action", "target_repr", "target_type", "org", "note"]
    list_filter = ["action", "target_type", ("org", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["actor", "org"]
    search_fields = ["target_id", "target_repr", "action", "actor__username", "org__slug", "note"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "actor", "org", "action", "target_type", "target_id", "target_repr", "before",
                       "after", "note"]


# The library's own key model is unused here (org keys are OrgAPIKey): keep it out of staff's way.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


@admin.register(OrgAPIKey)
class OrgAPIKeyAdmin(APIKeyModelAdmin):
    """Staff see every org's keys (never the keys themselves: only their prefix is stored in the
    clear) and revoke them. Keys are made by the org's owners through the API."""

    list_display = ["name", "display_prefix", "org", "role", "created", "last_used_at", "revoked", "created_by"]
    list_filter = ["revoked", "role"]
    list_select_related = ["org", "created_by"]
    search_fields = ["name", "prefix", "public_id", "org__slug"]
    fields = ["public_id", "name", "display_prefix", "org", "role", "user", "created_by", "created", "last_used_at",
              "expiry_date", "revoked", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: the row keeps what the key did attributed to it

    @admin.display(description="prefix")
    def display_prefix(self, obj: OrgAPIKey) -> str:
        return obj.display_prefix

    @admin.action(description="Revoke the selected API keys", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset) -> None:
        revoked = 0
        for api_key in queryset.filter(revoked=False):
            services.api_key_revoke(api_key=api_key, actor=request.user)
            revoked += 1
        self.message_user(request, f"{revoked} API key(s) revoked.", messages.SUCCESS)
