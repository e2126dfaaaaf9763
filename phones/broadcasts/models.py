"""A broadcast (one campaign) and its recipients, one row each: the row's status is the send's
claim, so a recipient is texted at most once however many workers run or die."""
from __future__ import annotations

from django.conf import settings
from django.db import models

from core.ids import PublicIdModel


class Broadcast(PublicIdModel):
    public_id_prefix = "bc"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled"  # waiting for scheduledAt
        SENDING = "sending"
        PAUSED = "paused"
        COMPLETED = "completed"
        CANCELED = "canceled"

    FINISHED = (Status.COMPLETED, Status.CANCELED)

    org = models.ForeignKey("telephony.Org", on_delete=models.CASCADE, related_name="broadcasts")
    connection = models.ForeignKey("telephony.ProviderConnection", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=120)
    body = models.TextField(help_text="The template: {{firstName}}, {{lastName}}, {{phone}} and CSV columns.")
    media_urls = models.JSONField(default=list, blank=True)
    # The senders, in the order recipients are spread over them: numbers (E.164), or empty with
    # messaging_service_sid set.
    senders = models.JSONField(default=list)
    messaging_service_sid = models.CharField(max_length=64, blank=True)
    # Each sender's rate, messages per second (the number type's default, or the service's).
    sender_rates = models.JSONField(default=dict)
    scheduled_at = models.DateTimeField()
    quiet_start = models.TimeField()
    quiet_end = models.TimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    # What the checks before sending found.
    total_rows = models.PositiveIntegerField(default=0)
    invalid_count = models.PositiveIntegerField(default=0)
    invalid_rows = models.JSONField(default=list, blank=True, help_text="[{row, value, error}], the first 1000.")
    duplicate_count = models.PositiveIntegerField(default=0)
    opted_out_count = models.PositiveIntegerField(default=0)
    recipient_count = models.PositiveIntegerField(default=0)
    segments_total = models.PositiveIntegerField(default=0)
    encoding = models.CharField(max_length=8, blank=True)
    non_gsm_char = models.CharField(max_length=64, blank=True)
    # Money, in minor units of `currency`: held before sending, settled to what was sent.
    currency = models.CharField(max_length=3)
    unit_price = models.PositiveIntegerField(help_text="Per SMS segment (per message for MMS), minor units.")
    estimated_cost = models.PositiveBigIntegerField(default=0)
    settled_cost = models.PositiveBigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["org", "-created_at"], name="broadcast_org_created")]

    def __str__(self) -> str:
        return self.name


class BroadcastRecipient(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"  # to send, at next_attempt_at
        SENDING = "sending"  # claimed by a worker; the provider may have it
        SENT = "sent"  # the provider took it (delivery: the message's status)
        FAILED = "failed"  # refused for good, or out of attempts
        OPTED_OUT = "opted_out"  # texted STOP while the broadcast ran
        CANCELED = "canceled"

    DONE = (Status.SENT, Status.FAILED, Status.OPTED_OUT, Status.CANCELED)

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="recipients")
    row = models.PositiveIntegerField(help_text="Where it was in the list or CSV (1 = the first recipient).")
    e164 = models.CharField(max_length=32)
    body = models.TextField(help_text="What is sent: the template filled in, with the opt-out language.")
    segments = models.PositiveSmallIntegerField()
    sender = models.CharField(max_length=64, help_text="The sender's key: an E.164 number or the service SID.")
    time_zones = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    next_attempt_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    error_message = models.CharField(max_length=255, blank=True)
    message = models.OneToOneField("phones.Message", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="broadcast_recipient")

    class Meta:
        ordering = ["row"]
        constraints = [models.UniqueConstraint(fields=["broadcast", "e164"], name="broadcast_recipient_unique")]
        # The due recipients in the order they are claimed (services.recipients_claim), read off the index.
        indexes = [models.Index(fields=["broadcast", "sender", "status", "next_attempt_at", "row"],
                                name="broadcast_recipient_next"),
                   models.Index(fields=["broadcast", "row"], name="broadcast_recipient_row")]

    def __str__(self) -> str:
        return f"{self.e164} ({self.status})"
