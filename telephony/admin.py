from django.contrib import admin

from telephony.models import Membership, Org, ProviderConnection


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


@admin.register(Org)
class OrgAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "currency", "created_at"]
    search_fields = ["slug", "name"]
    inlines = [MembershipInline, ConnectionInline]


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

    def has_add_permission(self, request):
        # Credentials must be checked with the provider before saving: that is the API's job.
        return False

    @admin.display(description="credentials")
    def masked_credentials(self, obj: ProviderConnection) -> str:
        return ", ".join(f"{key}: {value}" for key, value in obj.masked_credentials().items()) or "—"
