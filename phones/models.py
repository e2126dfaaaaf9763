from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.ids import PublicIdModel
from orgs.models import Org, ProviderConnection


class NumberType(models.TextChoices):
    LOCAL = "local"
    TOLL_FREE = "tollFree"
    MOBILE = "mobile"


class Trunk(PublicIdModel):
    """A SIP trunk of the org's provider account, as the provider last told us (phones.trunks.services
    keeps it in sync). The numbers assigned to it send their calls to its origination URLs."""

    public_id_prefix = "trk"

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="trunks")
    connection = models.ForeignKey(ProviderConnection, on_delete=models.CASCADE, related_name="trunks")
    provider_sid = models.CharField(max_length=64)
    friendly_name = models.CharField(max_length=64, blank=True)
    domain_name = models.CharField(max_length=255, blank=True)
    # [{sid, sipUrl, priority, weight, enabled, friendlyName}], by priority.
    origination_urls = models.JSONField(default=list, blank=True)
    synced_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["friendly_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "provider_sid"], name="trunk_one_per_connection_sid"),
        ]

    def __str__(self) -> str:
        return self.friendly_name or self.provider_sid


class Agent(PublicIdModel):
    """An AI agent: answers the calls (through the media gateway) and texts of the numbers attached to it.

    `tools` is a list of TOOL_NAMES the model may call. `transfer_targets` names where the
    transfer tool may send a call: {"<name the model uses>": "<target>"}, a target being an E.164
    number ("+14155550100"), an org member's softphone ("user:<username>") or a call queue
    ("queue:<name>"). `connection` is one of the org's AI connections (openai-realtime, sandbox-ai).
    Deleting an agent detaches its numbers (PhoneNumber.agent is SET_NULL): they answer as before.
    """

    public_id_prefix = "agt"

    TOOL_NAMES = ("transfer", "hangup", "send_sms", "end_call")
    MAX_CALL_SECONDS = 3600

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="agents")
    name = models.CharField(max_length=100)
    instructions = models.TextField(blank=True)
    greeting = models.TextField(blank=True, help_text="Spoken first when a call is answered.")
    voice = models.CharField(max_length=32, default="alloy")
    model = models.CharField(max_length=64, default="gpt-realtime")
    language = models.CharField(max_length=16, default="en")
    tools = models.JSONField(default=list, blank=True)
    transfer_targets = models.JSONField(default=dict, blank=True)
    max_call_seconds = models.PositiveIntegerField(default=600)
    connection = models.ForeignKey(ProviderConnection, on_delete=models.PROTECT, related_name="agents",
                                   help_text="The AI connection (openai-realtime or sandbox-ai).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["org", "-created_at"], name="agent_org_created")]

    def __str__(self) -> str:
        return self.name


class PhoneNumber(PublicIdModel):
    public_id_prefix = "pn"

    class TrunkStatus(models.TextChoices):
        PENDING = "pending"
        ASSIGNED = "assigned"
        FAILED = "failed"

    class Status(models.TextChoices):
        PENDING = "pending"
        ACTIVE = "active"
        FAILED = "failed"
        RELEASING = "releasing"
        RELEASED = "released"
        PAST_DUE = "past_due"
        # Recorded here but gone from the provider account (found by verify/reconcile):
        # no longer billed, never released or charged automatically; staff decide.
        MISSING = "missing"

    # The statuses in which a number belongs to an org: it can be in only one at a time.
    LIVE_STATUSES = (Status.PENDING, Status.ACTIVE, Status.RELEASING, Status.PAST_DUE)
    # The statuses renewals charge. Verify marks a billed number that is gone at the provider
    # `missing`, so billing stops.
    BILLED_STATUSES = (Status.ACTIVE, Status.PAST_DUE)
    # The statuses in which its configuration and routing may still change: they can be prepared
    # while a number is being bought; once it is on its way out, it is history.
    CONFIGURABLE_STATUSES = (Status.PENDING, Status.ACTIVE, Status.PAST_DUE)

    class RoutingMode(models.TextChoices):
        VOICE = "voice"
        IVR = "ivr"

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
    # The SIP trunk the number is given to, and where that stands at the provider: `assigned`, or
    # `pending` (a number being bought: the purchase job assigns it), or `failed` (the job could not;
    # PUT trunkId again, or verify's repair, retries). Blank with no trunk.
    trunk = models.ForeignKey(Trunk, null=True, blank=True, on_delete=models.SET_NULL, related_name="numbers")
    trunk_status = models.CharField(max_length=8, blank=True, choices=TrunkStatus.choices)
    # Calls are answered by the agent's realtime AI (phones.calls.ai) and texts by it too.
    agent = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="phone_numbers")
    setup_fee = models.PositiveIntegerField(default=0, help_text="Minor units.")
    monthly_fee = models.PositiveIntegerField(default=0, help_text="Minor units.")
    currency = models.CharField(max_length=3, default="USD")
    purchased_at = models.DateTimeField(null=True, blank=True)
    next_billing_date = models.DateField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    missing_since = models.DateTimeField(null=True, blank=True)
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
            # The listing's order, covering what its filters and totals read, so that deep
            # offsets and the monthly-cost sum are answered from the index alone.
            models.Index(fields=["org", "-created_at", "-id"], include=["status", "purpose", "routing_mode",
                                                                        "monthly_fee"], name="phone_org_listing"),
            models.Index(fields=["status", "next_billing_date"], name="phone_status_billing"),
        ]

    def __str__(self) -> str:
        return self.e164

    def config_section(self, name: str) -> dict:
        """One section of `configuration` (voiceConfig, smsConfig, tracking); {} when unset."""
        section = (self.configuration or {}).get(name) or {}
        return section if isinstance(section, dict) else {}

    def tracking_stamp(self) -> dict:
        """What `configuration.tracking` stamps on each message and call of the number:
        {campaignId, source} (those set), unless tracking is off (`enabled: false`) or names neither."""
        tracking = self.config_section("tracking")
        if tracking.get("enabled") is False:
            return {}
        return {key: tracking[key] for key in ("campaignId", "source") if tracking.get(key)}


class Job(PublicIdModel):
    """A unit of background work (purchase, release, verify, reconcile) the API can poll."""

    public_id_prefix = "job"

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

    FINISHED_STATUSES = (Status.SUCCEEDED, Status.FAILED)

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


class RingGroup(PublicIdModel):
    """Users whose softphones ring at once when a call is routed to the group."""

    public_id_prefix = "grp"

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="ring_groups")
    name = models.CharField(max_length=100)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="ring_groups")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["org", "name"], name="ringgroup_org_name_unique")]

    def __str__(self) -> str:
        return self.name


class PhoneRouting(models.Model):
    """How a number's traffic is handled: voice assignments, the IVR flow, and SMS rules.

    The JSON documents are validated by phones.calls.documents before they are saved; `assignments` holds
    the voice document {strategy, assignments, voicemail} (a bare list in rows made elsewhere),
    `ivr_flow` is {} when there is no flow. Read them with phones.calls.routing.routing_document.
    """

    phone_number = models.OneToOneField(PhoneNumber, on_delete=models.CASCADE, related_name="routing")
    assignments = models.JSONField(default=list, blank=True)
    ivr_flow = models.JSONField(default=dict, blank=True)
    sms_rules = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"routing of {self.phone_number}"


class Direction(models.TextChoices):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


# An inbound text stored with its answer and not yet threaded into the inbox (phones.messaging.tasks).
UNTHREADED = models.Q(direction=Direction.INBOUND, conversation__isnull=True, answer__isnull=False,
                      phone_number__isnull=False)


class Message(PublicIdModel):
    """An SMS/MMS sent or received on one of our numbers. Kept after the number is released (audit)."""

    public_id_prefix = "msg"

    Direction = Direction

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="messages")
    # No index of its own: message_phone_created (phone_number, -created_at) serves it.
    phone_number = models.ForeignKey(PhoneNumber, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="messages", db_index=False)
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
    conversation = models.ForeignKey("Conversation", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="messages")
    # An inbound text: what its webhook answered (phones.messaging.inbound.Answer), stored with it; a text
    # with no conversation yet is still to be threaded (phones.messaging.tasks.thread_inbound_sms).
    answer = models.JSONField(null=True, blank=True)
    # The number's configuration.tracking when the text was sent or received (PhoneNumber.tracking_stamp).
    tracking = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["phone_number", "-created_at"], name="message_phone_created"),
                   # The inbound texts still to be threaded (phones.messaging.tasks.thread_inbound_sms):
                   # exactly its condition, so that the index holds those and nothing else.
                   models.Index(fields=["id"], name="message_unthreaded", condition=UNTHREADED)]

    def __str__(self) -> str:
        return f"{self.direction} {self.from_number} → {self.to_number}"


# ---------------------------------------------------------------- calls and texts (webhooks, inbox, softphone)

class Contact(models.Model):
    """Someone who texts or calls the org's numbers, known by their phone number."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="contacts")
    e164 = models.CharField(max_length=32)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    tags = models.JSONField(default=list, blank=True)
    # Answers collected by fill-form rules, by field name.
    fields = models.JSONField(default=dict, blank=True)
    is_lead = models.BooleanField(default=False)
    lead_source = models.CharField(max_length=100, blank=True)
    lead_created_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["org", "e164"], name="contact_org_e164_unique")]

    def __str__(self) -> str:
        return self.e164


class Conversation(PublicIdModel):
    """An inbox thread: one per org, number and contact. `phone_number` is empty for messages sent
    through a messaging service whose sender is not one of the org's numbers."""

    public_id_prefix = "cnv"

    # No indexes of their own: conversation_org_last and the (phone_number, contact) unique one serve them.
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="conversations", db_index=False)
    phone_number = models.ForeignKey(PhoneNumber, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="conversations", db_index=False)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="conversations")
    last_message_at = models.DateTimeField(db_index=True)
    last_message_preview = models.CharField(max_length=160, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["phone_number", "contact"],
                                               name="conversation_number_contact_unique")]
        indexes = [models.Index(fields=["org", "-last_message_at"], name="conversation_org_last")]

    def __str__(self) -> str:
        return f"{self.contact} on {self.phone_number}"


class OptOut(models.Model):
    """A recipient who texted STOP (or another opt-out keyword) to the org: nothing is sent to them
    until they text START. The row is kept when lifted (`lifted_at`), for the record."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="opt_outs")
    e164 = models.CharField(max_length=32)
    keyword = models.CharField(max_length=30)
    phone_number = models.ForeignKey(PhoneNumber, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", help_text="The number the keyword was texted to.")
    opted_out_at = models.DateTimeField()
    lifted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "e164"], name="optout_org_e164_unique")]

    def __str__(self) -> str:
        return f"{self.e164} ({'lifted' if self.lifted_at else 'opted out'})"


class Call(PublicIdModel):
    public_id_prefix = "call"

    Direction = Direction

    class AIStatus(models.TextChoices):
        NONE = "", "not an AI call"
        CONNECTING = "connecting"
        ACTIVE = "active"
        ENDED = "ended"
        FAILED = "failed"

    # The AI sessions that count towards the org's AI_MAX_CONCURRENT_CALLS.
    AI_LIVE_STATUSES = (AIStatus.CONNECTING, AIStatus.ACTIVE)

    # No index of its own: call_org_created (org, -created_at) serves every lookup by org.
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="calls", db_index=False)
    phone_number = models.ForeignKey(PhoneNumber, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="calls")
    direction = models.CharField(max_length=8, choices=Direction.choices)
    from_number = models.CharField(max_length=64)
    to_number = models.CharField(max_length=64)
    provider_sid = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16)
    duration = models.PositiveIntegerField(null=True, blank=True, help_text="Seconds, when completed.")
    # Real-time transcription (<Start><Transcription>) of a dialled call: final segments by
    # Twilio's SequenceId, so a repeated callback stores a segment once.
    transcript = models.JSONField(default=dict, blank=True)
    # The number's configuration.tracking when the call was placed or received (PhoneNumber.tracking_stamp).
    tracking = models.JSONField(default=dict, blank=True)
    # An AI agent's call (the media gateway writes these): the agent that answered, the conversation
    # as [{"role": "caller" | "agent" | "tool", "text": str, "at": ISO 8601 time}, ...] in order,
    # where the AI session is (AIStatus), its start and end, and the seconds of AI time used.
    agent = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls")
    ai_transcript = models.JSONField(default=list, blank=True)
    ai_status = models.CharField(max_length=10, blank=True, default="", choices=AIStatus.choices)
    ai_started_at = models.DateTimeField(null=True, blank=True)
    ai_ended_at = models.DateTimeField(null=True, blank=True)
    ai_seconds = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["org", "-created_at"], name="call_org_created"),
                   models.Index(fields=["org", "created_at"], name="call_ai_live",
                                condition=Q(ai_status__in=["connecting", "active"]))]

    def __str__(self) -> str:
        return f"{self.direction} call {self.from_number} → {self.to_number}"


class Recording(PublicIdModel):
    """A call recording: kept at the provider; we store its SID and a reference URL.

    The audio is only ever fetched from the provider's own API, with the connection's credentials
    (phones.recordings), never from `url`, which is what the provider's callback said.
    """

    public_id_prefix = "rec"

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="recordings")
    call = models.ForeignKey(Call, null=True, blank=True, on_delete=models.SET_NULL, related_name="recordings")
    # The number the call was on, and the provider account that holds the audio (set from the callback).
    phone_number = models.ForeignKey(PhoneNumber, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="recordings")
    connection = models.ForeignKey(ProviderConnection, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="recordings")
    call_sid = models.CharField(max_length=64, blank=True)
    provider_sid = models.CharField(max_length=64, unique=True)
    url = models.URLField(max_length=1000, blank=True)
    status = models.CharField(max_length=16, blank=True)
    duration = models.PositiveIntegerField(null=True, blank=True)
    transcription_sid = models.CharField(max_length=64, blank=True)
    transcription_status = models.CharField(max_length=16, blank=True)
    transcription_text = models.TextField(blank=True)
    # The last failed attempt to delete it at the provider (by the API or by retention): the row stays
    # until the provider confirms the audio is gone.
    delete_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["org", "-created_at"], name="recording_org_created")]

    def __str__(self) -> str:
        return self.provider_sid


class FormSession(models.Model):
    """A fill-form rule half way through with one contact: which field is asked next.

    The rule's fields are copied in, so editing the rules does not derail a form in progress.
    """

    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="form_sessions")
    form = models.JSONField(help_text="The fill-form rule's params when the form started.")
    step = models.PositiveSmallIntegerField(default=0)
    answers = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["phone_number", "contact"], name="formsession_unique")]


class MessagingSettings(models.Model):
    """Where an org's automations and AI assistant live, for the SMS rules that hand off to them.

    Outbound calls to these URLs are signed: `X-Signature-SHA256` is the hex HMAC-SHA256 of the
    raw body with `signing_secret`.
    """

    org = models.OneToOneField(Org, on_delete=models.CASCADE, related_name="messaging_settings")
    automation_webhook_url = models.URLField(max_length=1000, blank=True,
                                             help_text="trigger-automation and go-to-flow rules POST here.")
    ai_assistant_url = models.URLField(max_length=1000, blank=True,
                                       help_text="ai-assistant rules POST the conversation here.")
    signing_secret = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"messaging settings of {self.org}"


class OutboundWebhookDelivery(models.Model):
    """One signed POST to the org's automation URL, delivered (and retried) by Celery."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="webhook_deliveries")
    key = models.CharField(max_length=128, unique=True, help_text="What triggered it: sent once per key.")
    event = models.CharField(max_length=64)
    url = models.URLField(max_length=1000, blank=True)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event} → {self.url} ({self.status})"


class SoftphonePresence(models.Model):
    class Status(models.TextChoices):
        AVAILABLE = "available"
        BUSY = "busy"
        AWAY = "away"
        OFFLINE = "offline"

    # Whom routing rings: not the offline (the default, until a user says otherwise) nor the busy.
    RINGS = (Status.AVAILABLE, Status.AWAY)

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OFFLINE)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "user"], name="presence_org_user_unique")]


class VerifyReport(models.Model):
    """What one verify/reconcile run found: per-number webhook checks, drift, orphans, importables."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="verify_reports")
    job = models.OneToOneField(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="report")
    repaired = models.BooleanField(default=False)
    summary = models.JSONField(default=dict, blank=True)
    report = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"verify {self.org} {self.created_at:%Y-%m-%d %H:%M}"


class OrgNumberTotals(models.Model):
    """How many numbers an org has in each status and what they cost a month.

    On PostgreSQL, triggers on the phone number table keep these rows exact (migration
    0007): every insert, update and delete, bulk ones included, adjusts them in the same
    transaction. The listing reads its totals here instead of counting 100,000 rows per
    request. Nothing in Python writes them.
    """

    org = models.ForeignKey(Org, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)
    status = models.CharField(max_length=10)
    count = models.BigIntegerField(default=0)
    monthly_fee = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "status"], name="totals_org_status")]

    def __str__(self) -> str:
        return f"{self.org_id} {self.status}: {self.count}"
