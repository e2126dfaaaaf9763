"""A verified inbound webhook, as the features that answer it see it (webhooks.security makes it)."""
from __future__ import annotations

from dataclasses import dataclass

from orgs.models import Org, ProviderConnection
from phones.models import PhoneNumber, PhoneRouting
from providers.events import CallEvent, InboundSms, RecordingEvent, StatusEvent, TranscriptionEvent


@dataclass
class Webhook:
    """A verified webhook: its parameters, the connection it is for and, when known, our number.

    `provider` names the URL family it came in on (twilio, plivo, telnyx); the adapter that
    parsed it fills in what it says (`call`, `sms`, `status`, `recording` or `transcription`) in
    provider-neutral values.
    """

    kind: str
    params: dict[str, str]
    query: dict[str, str]
    connection: ProviderConnection
    number: PhoneNumber | None = None
    provider: str = "twilio"
    call: CallEvent | None = None
    sms: InboundSms | None = None
    status: StatusEvent | None = None
    recording: RecordingEvent | None = None
    transcription: TranscriptionEvent | None = None
    # The lookup row (webhooks.lookup_cache) that number, org, connection and routing were built
    # from: the same object for as long as none of them changed, so an answer that depends on
    # them alone may be kept per row (phones.calls.ivr). None when the number is not ours.
    resolved_from: tuple | None = None

    @property
    def org(self) -> Org:
        return self.number.org if self.number is not None else self.connection.org

    @property
    def routing(self) -> PhoneRouting | None:
        return getattr(self.number, "routing", None) if self.number is not None else None
