from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from telephony.ids import new_public_id
from telephony.models import Org, ProviderConnection


class NumberType(models.TextChoices):
    LOCAL = "local"
    TOLL_FREE = "tollFree"
    MOBILE = "mobile"


class PhoneNumber(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        ACTIVE = "active"
        FAILED = "failed"
        RELEASING = "releasing"
        RELEASED = "released"
        PAST_DUE = "past_due"

    # The statuses in which a number belongs to an org: it can be in only one at a time.
    LIVE_STATUSES = (Status.PENDING, Status.ACTIVE, Status.RELEASING, Status.PAST_DUE)

    class RoutingMode(models.TextChoices):
        VOICE = "voice"
        IVR = "ivr"

    public_id = models.CharField(max_length=32, unique=True, editable=False)
    org = models.ForeignKey(Org, on_delete=models.PROTECT, related_name="phone_numbers")
    connection = models.ForeignKey(ProviderConnection, on_delete=models.PROTECT, related_name="phone_numbers")
    e164 = models.CharField("number", max_length=16)
    provider_sid = models.CharField(max_length=64, blank=True, db_index=True)
    friendly_name = models.CharField(max_length=64, blank=True)
    purpose = models.CharField(max_length=64, blank=True)
    country = models.CharField(max_length=2)
    number_type = models.CharField(max_length=10, choices=NumberType.choices, default=NumberType.LOCAL)
    capabilities = models.JSONField(default=dict, blank=True)
    locality = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    routing_mode = models.CharField(max_length=5, choices=RoutingMode.choices, default=RoutingMode.VOICE)
    configuration = models.JSONField(default=dict, blank=True)
    is_system = models.BooleanField(default=False)
    trunk_id = models.CharField(max_length=64, blank=True)
    agent_id = models.CharField(max_length=64, blank=True)
    setup_fee = models.PositiveIntegerField(default=0, help_text="Minor units.")
    monthly_fee = models.PositiveIntegerField(default=0, help_text="Minor units.")
    currency = models.CharField(max_length=3, default="USD")
    purchased_at = models.DateTimeField(null=True, blank=True)
    next_billing_date = models.DateField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    # The webhook URLs we last set at the provider, for drift checks.
    webhooks = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["org"], condition=Q(is_system=True), name="phone_one_system_per_org"),
            models.UniqueConstraint(
                fields=["e164"],
                condition=Q(status__in=["pending", "active", "releasing", "past_due"]),
                name="phone_e164_live_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["org", "status", "-created_at"], name="phone_org_status_created"),
            models.Index(fields=["status", "next_billing_date"], name="phone_status_billing"),
        ]

    def __str__(self) -> str:
        return self.e164

    def save(self, *args, **kwargs) -> None:
        if not self.public_id:
            self.public_id = new_public_id("pn")
        super().save(*args, **kwargs)


class Job(models.Model):
    """A unit of background work (purchase, release, verify, reconcile) the API can poll."""

    class Kind(models.TextChoices):
        PURCHASE = "purchase"
        RELEASE = "release"
        VERIFY = "verify"
        RECONCILE = "reconcile"

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    public_id = models.CharField(max_length=32, unique=True, editable=False)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    phone_number = models.ForeignKey(PhoneNumber, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="jobs")
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    result = models.JSONField(default=dict, blank=True)
    error = models.JSONField(default=dict, blank=True)
    params = models.JSONField(default=dict, blank=True, help_text="What the job was asked to do.")
    attempts = models.PositiveSmallIntegerField(default=0)
    # A worker owns a running job until its lease expires: a redelivered copy of the
    # task (worker killed, visibility timeout) cannot run the same job twice at once.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.public_id} ({self.status})"

    def save(self, *args, **kwargs) -> None:
        if not self.public_id:
            self.public_id = new_public_id("job")
        super().save(*args, **kwargs)


class RingGroup(models.Model):
    """Users whose softphones ring at once when a call is routed to the group."""

    public_id = models.CharField(max_length=32, unique=True, editable=False)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="ring_groups")
    name = models.CharField(max_length=100)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="ring_groups")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["org", "name"], name="ringgroup_org_name_unique")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if not self.public_id:
            self.public_id = new_public_id("grp")
        super().save(*args, **kwargs)


class PhoneRouting(models.Model):
    """How a number's traffic is handled: voice assignments, the IVR flow, and SMS rules.

    The JSON documents are validated by phones.routing before they are saved.
    """

    phone_number = models.OneToOneField(PhoneNumber, on_delete=models.CASCADE, related_name="routing")
    assignments = models.JSONField(default=list, blank=True)
    ivr_flow = models.JSONField(default=dict, blank=True)
    sms_rules = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"routing of {self.phone_number}"


class Message(models.Model):
    """An SMS/MMS sent or received on one of our numbers. Kept after the number is released (audit)."""

    class Direction(models.TextChoices):
        INBOUND = "inbound"
        OUTBOUND = "outbound"

    public_id = models.CharField(max_length=32, unique=True, editable=False)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="messages")
    phone_number = models.ForeignKey(PhoneNumber, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="messages")
    direction = models.CharField(max_length=8, choices=Direction.choices)
    from_number = models.CharField(max_length=32)
    to_number = models.CharField(max_length=32)
    body = models.TextField(blank=True)
    media_urls = models.JSONField(default=list, blank=True)
    # Provider SIDs are unique: the same webhook twice stores the message once.
    provider_sid = models.CharField(max_length=64, unique=True, null=True, blank=True)
    status = models.CharField(max_length=16, blank=True)
    segments = models.PositiveSmallIntegerField(default=1)
    error_code = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["phone_number", "-created_at"], name="message_phone_created")]

    def __str__(self) -> str:
        return f"{self.direction} {self.from_number} → {self.to_number}"

    def save(self, *args, **kwargs) -> None:
        if not self.public_id:
            self.public_id = new_public_id("msg")
        super().save(*args, **kwargs)
