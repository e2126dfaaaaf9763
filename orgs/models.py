from __future__ import annotations

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from rest_framework_api_key.crypto import KeyGenerator
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager

from core import crypto
from core.ids import PublicIdModel


def validate_countries(value: object) -> None:
    """A list of two-letter ISO country codes that phone numbers exist for (upper case)."""
    if not isinstance(value, list) or not all(isinstance(c, str) and c in phonenumbers.SUPPORTED_REGIONS
                                              for c in value):
        raise ValidationError("A list of two-letter ISO country codes in upper case, e.g. [\"US\", \"CA\"].")


class Org(models.Model):
    slug = models.SlugField(unique=True, help_text="Sent by API clients as the `orgid` header.")
    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, default="USD", help_text="Currency of the org's balance.")
    softphone_countries = models.JSONField(
        default=list, blank=True, validators=[validate_countries],
        help_text="ISO codes of the countries members' softphones may call (empty: the caller ID's own).")
    recording_retention_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Call recordings older than this many days are deleted, at the provider "
                                         "too (phones.recordings, by beat). Empty: kept until deleted.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner"
        ADMIN = "admin"
        MEMBER = "member"

    RANK = {Role.MEMBER: 0, Role.ADMIN: 1, Role.OWNER: 2}

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "org"], name="membership_user_org_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.org} ({self.role})"

    def has_role(self, role: str) -> bool:
        return self.RANK[self.role] >= self.RANK[role]


class ProviderConnection(PublicIdModel):
    public_id_prefix = "int"

    class Type(models.TextChoices):
        TWILIO = "twilio-provider", "Twilio"
        SANDBOX = "sandbox-provider", "Sandbox (Twilio emulator)"
        PLIVO = "plivo-provider", "Plivo"
        TELNYX = "telnyx-provider", "Telnyx"
        # AI connections: agents use them (phones.models.Agent); no numbers come through them.
        OPENAI_REALTIME = "openai-realtime", "OpenAI Realtime (or a compatible API)"
        SANDBOX_AI = "sandbox-ai", "Sandbox AI (realtime emulator)"

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="connections")
    type = models.CharField(max_length=32, choices=Type.choices)
    name = models.CharField(max_length=200)
    # The provider's account id (Twilio AccountSid) is not a secret: webhooks are
    # routed to their connection by it.
    account_id = models.CharField(max_length=64, db_index=True, blank=True)
    secret_blob = models.TextField(blank=True, editable=False, help_text="Encrypted credentials.")
    public_config = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_type_display()})"

    @property
    def credentials(self) -> dict:
        return crypto.decrypt_json(self.secret_blob)

    @credentials.setter
    def credentials(self, value: dict) -> None:
        self.secret_blob = crypto.encrypt_json(value)

    def masked_credentials(self) -> dict[str, str]:
        """What the API and admin show: identifiers partly, secrets never."""
        masked = {}
        for key, value in self.credentials.items():
            if not value:
                continue
            if key.lower().endswith(("sid", "id")) and len(value) > 8:
                masked[key] = f"{value[:4]}…{value[-4:]}"
            else:
                masked[key] = "********"
        return masked


class IdempotencyKey(models.Model):
    """A client's `Idempotency-Key`: the same key and body get the same response, once."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    scope = models.CharField(max_length=64, help_text="The operation the key was used for.")
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "scope", "key"], name="idempotency_org_scope_key")]


class AuditLog(models.Model):
    """Who did what to what, with the state before and after: every staff action is recorded."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    org = models.ForeignKey(Org, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64)
    target_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target")]

    def __str__(self) -> str:
        return f"{self.action} {self.target_repr or self.target_id}"


# Every org API key starts with this, so `Authorization: Bearer …` tells a key from a JWT (which
# always starts with "eyJ") before anything is looked up.
API_KEY_MARKER = "tpk_"


class OrgAPIKeyGenerator(KeyGenerator):
    """`tpk_<8-character prefix>.<40-character secret>`; the whole key is hashed (SHA-512, the
    library's hasher for high-entropy keys) and only the prefix is stored in the clear."""

    def __init__(self) -> None:
        super().__init__(prefix_length=8, secret_key_length=40)

    def generate(self) -> tuple[str, str, str]:
        prefix = self.get_prefix()
        key = f"{API_KEY_MARKER}{prefix}.{self.get_secret_key()}"
        return key, prefix, self.hash(key)


class OrgAPIKeyManager(BaseAPIKeyManager):
    key_generator = OrgAPIKeyGenerator()

    def get_from_key(self, key: str) -> OrgAPIKey:
        """The usable (not revoked, not expired) key that `key` is, or DoesNotExist."""
        if not key.startswith(API_KEY_MARKER):
            raise self.model.DoesNotExist("Not an org API key.")
        prefix = key[len(API_KEY_MARKER):].partition(".")[0]
        api_key = self.get_usable_keys().select_related("org", "user").filter(prefix=prefix).first()
        if api_key is None or api_key.has_expired or not api_key.is_valid(key):
            raise self.model.DoesNotExist("Key is not valid.")
        return api_key


class OrgAPIKey(PublicIdModel, AbstractAPIKey):
    """A server-to-server client's key: acts in one org with one role, without a person's session.

    Requests made with it act as `user`, a principal of its own (no password, no membership), so
    everything the API records as done by someone (a job's or number's `created_by`, the audit
    log's actor) names the key, and a revoked key is no one.
    """

    public_id_prefix = "key"

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="api_keys")
    role = models.CharField(max_length=10, choices=Membership.Role.choices)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="org_api_key",
                                help_text="The principal requests made with this key act as.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = OrgAPIKeyManager()

    # `last_used_at` is written at most this often per key, not on every request.
    LAST_USED_RESOLUTION_SECONDS = 60

    class Meta:
        ordering = ["-created"]
        verbose_name = "org API key"
        verbose_name_plural = "org API keys"

    def __str__(self) -> str:
        return f"{self.name} ({self.display_prefix})"

    @property
    def display_prefix(self) -> str:
        """What lists show: enough to recognise the key, nothing that authenticates."""
        return f"{API_KEY_MARKER}{self.prefix}"

    def touch(self) -> None:
        now = timezone.now()
        if self.last_used_at is None or (now - self.last_used_at).total_seconds() >= self.LAST_USED_RESOLUTION_SECONDS:
            type(self).objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now
