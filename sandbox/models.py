"""The sandbox's own state: what a Twilio account would hold, for emulated accounts.

Separate from the platform's tables on purpose: the platform sees these rows only
through the Twilio REST API the emulator speaks, exactly as it would see Twilio's.
"""
from __future__ import annotations

import secrets

from django.db import models


def new_sid(prefix: str) -> str:
    """Twilio's SID shape: two letters and 32 lowercase hex digits."""
    return prefix + secrets.token_hex(16)


class SandboxAccount(models.Model):
    sid = models.CharField(max_length=34, unique=True)
    auth_token = models.CharField(max_length=32)
    friendly_name = models.CharField(max_length=64)
    status = models.CharField(max_length=16, default="active")
    date_created = models.DateTimeField(auto_now_add=True)
    date_updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.friendly_name} ({self.sid})"


class SandboxApiKey(models.Model):
    sid = models.CharField(max_length=34, unique=True)
    secret = models.CharField(max_length=32)
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="api_keys")
    friendly_name = models.CharField(max_length=64, blank=True)
    date_created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.sid


class SandboxNumber(models.Model):
    """An IncomingPhoneNumber: a number an emulated account has bought."""

    sid = models.CharField(max_length=34, unique=True)
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="numbers")
    phone_number = models.CharField(max_length=20)
    friendly_name = models.CharField(max_length=64)
    iso_country = models.CharField(max_length=2)
    number_type = models.CharField(max_length=16)
    voice = models.BooleanField(default=True)
    sms = models.BooleanField(default=False)
    mms = models.BooleanField(default=False)
    voice_url = models.CharField(max_length=1024, blank=True)
    voice_method = models.CharField(max_length=8, default="POST")
    voice_fallback_url = models.CharField(max_length=1024, blank=True)
    voice_fallback_method = models.CharField(max_length=8, default="POST")
    sms_url = models.CharField(max_length=1024, blank=True)
    sms_method = models.CharField(max_length=8, default="POST")
    sms_fallback_url = models.CharField(max_length=1024, blank=True)
    sms_fallback_method = models.CharField(max_length=8, default="POST")
    status_callback = models.CharField(max_length=1024, blank=True)
    status_callback_method = models.CharField(max_length=8, default="POST")
    voice_application_sid = models.CharField(max_length=34, blank=True)
    sms_application_sid = models.CharField(max_length=34, blank=True)
    trunk_sid = models.CharField(max_length=34, blank=True)
    voice_caller_id_lookup = models.BooleanField(default=False)
    voice_receive_mode = models.CharField(max_length=8, default="voice")
    address_sid = models.CharField(max_length=34, blank=True)
    emergency_address_sid = models.CharField(max_length=34, blank=True)
    emergency_status = models.CharField(max_length=16, default="Inactive")
    bundle_sid = models.CharField(max_length=34, blank=True)
    identity_sid = models.CharField(max_length=34, blank=True)
    date_created = models.DateTimeField(auto_now_add=True)
    date_updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # The magic test number +15005550006 can be bought again and again (as with Twilio's
            # test credentials); any other number has one owner.
            models.UniqueConstraint(fields=["phone_number"], condition=~models.Q(phone_number="+15005550006"),
                                    name="sandbox_number_one_owner"),
        ]

    def __str__(self) -> str:
        return self.phone_number


class SandboxMessage(models.Model):
    sid = models.CharField(max_length=34, unique=True)
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="messages")
    to = models.CharField(max_length=64)
    from_number = models.CharField(max_length=64, blank=True)
    messaging_service_sid = models.CharField(max_length=34, blank=True)
    body = models.TextField(blank=True)
    media_urls = models.JSONField(default=list, blank=True)
    num_segments = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=16)
    direction = models.CharField(max_length=16, default="outbound-api")
    status_callback = models.CharField(max_length=1024, blank=True)
    date_created = models.DateTimeField(auto_now_add=True)
    date_updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.sid


class SandboxCall(models.Model):
    sid = models.CharField(max_length=34, unique=True)
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="calls")
    to = models.CharField(max_length=64)
    from_number = models.CharField(max_length=64)
    # What the call runs: a TwiML URL, inline TwiML, or a TwiML application (one of the three);
    # a redirect (POST Calls/{Sid} with Url or Twiml) replaces it.
    url = models.CharField(max_length=1024, blank=True)
    method = models.CharField(max_length=8, default="POST")
    twiml = models.TextField(blank=True)
    application_sid = models.CharField(max_length=34, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    status_callback = models.CharField(max_length=1024, blank=True)
    status_callback_method = models.CharField(max_length=8, default="POST")
    status = models.CharField(max_length=16, default="queued")
    direction = models.CharField(max_length=16, default="outbound-api")
    # The call's recording, once <Start><Recording> ran: Twilio.CURRENT names it.
    recording_sid = models.CharField(max_length=34, blank=True)
    recording_status = models.CharField(max_length=16, blank=True)
    date_created = models.DateTimeField(auto_now_add=True)
    date_updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.sid


class SandboxFault(models.Model):
    """A failure to inject into the next matching request(s), for tests of retry and recovery."""

    class Kind(models.TextChoices):
        HTTP_500 = "http_500", "answer Twilio's 500"
        TIMEOUT_BEFORE = "timeout_before", "time out without doing anything"
        TIMEOUT_AFTER = "timeout_after", "do it, then time out"

    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="faults")
    resource = models.CharField(max_length=64)
    method = models.CharField(max_length=8)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    remaining = models.PositiveIntegerField(default=1)
    date_created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind} on {self.method} {self.resource} (x{self.remaining})"


# ---------------------------------------------------------------- Messaging API
# Messaging services, the numbers in them, and their A2P 10DLC campaigns.

class SandboxMessagingService(models.Model):
    sid = models.CharField(max_length=34, unique=True)
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="messaging_services")
    friendly_name = models.CharField(max_length=64)
    # Off (Twilio's default): the service's inbound URL takes the SMS of every number in it.
    use_inbound_webhook_on_number = models.BooleanField(default=False)
    date_created = models.DateTimeField(auto_now_add=True)
    date_updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.friendly_name} ({self.sid})"


class SandboxServiceNumber(models.Model):
    """A number in a messaging service's sender pool; Twilio allows one service per number."""

    service = models.ForeignKey(SandboxMessagingService, on_delete=models.CASCADE, related_name="numbers")
    number = models.OneToOneField(SandboxNumber, on_delete=models.CASCADE, related_name="service_membership")
    date_created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.number} in {self.service.sid}"


class SandboxA2PCampaign(models.Model):
    """A us_app_to_person campaign registered on a service (Compliance/Usa2p)."""

    class Status(models.TextChoices):
        IN_PROGRESS = "IN_PROGRESS"
        PENDING = "PENDING"
        VERIFIED = "VERIFIED"
        FAILED = "FAILED"

    sid = models.CharField(max_length=34, unique=True)
    service = models.ForeignKey(SandboxMessagingService, on_delete=models.CASCADE, related_name="campaigns")
    campaign_status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_PROGRESS)
    use_case = models.CharField(max_length=32, default="MIXED")
    date_created = models.DateTimeField(auto_now_add=True)
    date_updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.sid} ({self.campaign_status})"


# ---------------------------------------------------------------- Elastic SIP Trunking v1
# A number's trunk is SandboxNumber.trunk_sid (IncomingPhoneNumbers shows it as `trunk_sid`).

class SandboxTrunk(models.Model):
    sid = models.CharField(max_length=34, unique=True)
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="trunks")
    friendly_name = models.CharField(max_length=64, blank=True)
    domain_name = models.CharField(max_length=255, blank=True)
    # Its Origination URLs: [{sid, sip_url, priority, weight, enabled, friendly_name}].
    origination_urls = models.JSONField(default=list, blank=True)
    date_created = models.DateTimeField(auto_now_add=True)
    date_updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.friendly_name} ({self.sid})"


class SandboxAddress(models.Model):
    """An Address (2010-04-01 Addresses): the end user's place, which a number with an address
    requirement is bought with (sandbox.regulatory)."""

    sid = models.CharField(max_length=34, unique=True)
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="addresses")
    customer_name = models.CharField(max_length=64)
    friendly_name = models.CharField(max_length=64, blank=True)
    street = models.CharField(max_length=128)
    street_secondary = models.CharField(max_length=128, blank=True)
    city = models.CharField(max_length=64)
    region = models.CharField(max_length=64)
    postal_code = models.CharField(max_length=16)
    iso_country = models.CharField(max_length=2)
    emergency_enabled = models.BooleanField(default=False)
    date_created = models.DateTimeField(auto_now_add=True)
    date_updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.customer_name}, {self.city} {self.iso_country} ({self.sid})"
