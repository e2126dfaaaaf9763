"""Read-only admin for the emulator's state: staff can look, the REST API is how it changes."""
from django.contrib import admin

from orgs.admin import ReadOnlyAdmin
from sandbox.models import (
    SandboxAccount,
    SandboxAddress,
    SandboxApiKey,
    SandboxCall,
    SandboxFault,
    SandboxMessage,
    SandboxNumber,
    SandboxTrunk,
)


@admin.register(SandboxAccount)
class SandboxAccountAdmin(ReadOnlyAdmin):
    list_display = ("sid", "friendly_name", "status", "date_created")
    search_fields = ("sid", "friendly_name")
    # An emulated account's token is no secret worth hiding from staff: it is what a Twilio client
    # pointed at /sandbox/ signs in with (README: "Point any Twilio client at the sandbox"). Real
    # Twilio credentials stay masked on the connection pages.
    fields = ("sid", "auth_token", "friendly_name", "status", "date_created", "date_updated")
    readonly_fields = fields


@admin.register(SandboxApiKey)
class SandboxApiKeyAdmin(ReadOnlyAdmin):
    list_display = ("sid", "account", "friendly_name", "date_created")
    exclude = ("secret",)


@admin.register(SandboxNumber)
class SandboxNumberAdmin(ReadOnlyAdmin):
    list_display = ("phone_number", "sid", "account", "number_type", "iso_country", "date_created")
    list_filter = ("iso_country", "number_type")
    search_fields = ("phone_number", "sid", "account__sid")


@admin.register(SandboxMessage)
class SandboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("sid", "account", "from_number", "to", "status", "date_created")
    search_fields = ("sid", "to", "from_number")


@admin.register(SandboxCall)
class SandboxCallAdmin(ReadOnlyAdmin):
    list_display = ("sid", "account", "from_number", "to", "status", "date_created")
    search_fields = ("sid", "to", "from_number")


@admin.register(SandboxFault)
class SandboxFaultAdmin(ReadOnlyAdmin):
    list_display = ("account", "resource", "method", "kind", "remaining", "date_created")


@admin.register(SandboxTrunk)
class SandboxTrunkAdmin(ReadOnlyAdmin):
    list_display = ("sid", "friendly_name", "domain_name", "account", "date_created")
    search_fields = ("sid", "friendly_name", "account__sid")


@admin.register(SandboxAddress)
class SandboxAddressAdmin(ReadOnlyAdmin):
    """The end users' addresses numbers with an address requirement are bought with (sandbox.regulatory)."""

    list_display = ("sid", "customer_name", "city", "iso_country", "account", "date_created")
    list_filter = ("iso_country",)
    search_fields = ("sid", "customer_name", "account__sid")
