"""The sandbox's Messaging API state: messaging services, the numbers in them, and their US A2P
10DLC campaigns. Imported by sandbox.models so Django finds the models there."""
from __future__ import annotations

from django.db import models

from sandbox.models import SandboxAccount, SandboxNumber


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
