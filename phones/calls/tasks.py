"""Call tasks (names pinned to where they were first queued)."""
from __future__ import annotations

import logging

from celery import shared_task

from orgs.models import ProviderConnection
from providers.base import ProviderError
from providers.registry import provider_for

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, name="webhooks.tasks.set_recording_status")
def set_recording_status(*, connection_id: int, call_sid: str, status: str) -> None:
    """pause-/resume-recording IVR nodes: TwiML has no verb for them; the provider's API does."""
    connection = ProviderConnection.objects.filter(pk=connection_id).first()
    if connection is None:
        return
    try:
        provider_for(connection).set_call_recording(call_sid, status)
    except ProviderError as exc:
        # A call that hung up, one not recording, or a provider that cannot: nothing to retry.
        logger.warning("could not set the recording of call %s to %s: %s", call_sid, status, exc.message)
