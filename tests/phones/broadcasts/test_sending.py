"""Sending: each recipient once, STOP honoured mid-broadcast, errors retried or not, the hold settled."""
from __future__ import annotations

from datetime import timedelta
from unittest import mock

from django.utils import timezone

from billing.models import LedgerEntry
from billing.services import balance_get
from phones.broadcasts.models import Broadcast, BroadcastRecipient
from phones.broadcasts.services import broadcast_send_batch, stale_claims_resolve
from phones.messaging.services import opt_out_record
from phones.models import Message
from providers.base import ProviderError
from providers.twilio.client import TwilioProvider
from sandbox.models import SandboxMessage
from sandbox.receipts import sandbox_receipts_post
from tests.phones.broadcasts.conftest import afternoon_in_new_york, run_all

NY, LA, VANCOUVER = "+12125550123", "+13105550123", "+16045550123"
UNSUBSCRIBED = "+15005550004"  # the sandbox answers 21610 (unsubscribed at the carrier), as Twilio's test number does


def at_noon_in_new_york():
    """A fixed clock inside every recipient's window (conftest.afternoon_in_new_york)."""
    return mock.patch("django.utils.timezone.now", return_value=afternoon_in_new_york())


def test_each_recipient_is_sent_once_and_the_hold_is_settled_to_what_was_sent(create, org):
    before = balance_get(org=org).balance
    with at_noon_in_new_york():
        created = create([NY, LA, VANCOUVER, UNSUBSCRIBED], body="x" * 200).json()  # 2 segments each
        assert created["cost"]["estimated"] == 8
        run_all(created["id"])
        run_all(created["id"])  # again: nothing is sent twice
    assert sorted(SandboxMessage.objects.values_list("to", flat=True)) == sorted([NY, LA, VANCOUVER])
    statuses = dict(BroadcastRecipient.objects.values_list("e164", "status"))
    assert statuses == {NY: "sent", LA: "sent", VANCOUVER: "sent", UNSUBSCRIBED: "failed"}
    failed = BroadcastRecipient.objects.get(e164=UNSUBSCRIBED)
    assert (failed.error_code, failed.attempts) == ("21610", 1)  # permanent: never retried
    broadcast = Broadcast.objects.get()
    assert (broadcast.status, broadcast.settled_cost) == ("completed", 6)
    settle = LedgerEntry.objects.get(key=f"broadcast-settle:{broadcast.public_id}")
    assert settle.amount == 2
    assert balance_get(org=org).balance == before - 6
    assert Message.objects.filter(direction="outbound").count() == 3


def test_a_stop_received_during_the_broadcast_stops_later_sends(create, org):
    with at_noon_in_new_york():
        created = create([NY, LA]).json()
        opt_out_record(org=org, e164=LA, keyword="STOP", number=None)  # texted STOP after it was created
        run_all(created["id"])
    assert list(SandboxMessage.objects.values_list("to", flat=True)) == [NY]
    assert BroadcastRecipient.objects.get(e164=LA).status == "opted_out"
    assert Broadcast.objects.get().settled_cost == 1


def test_transient_errors_are_retried_with_backoff_and_then_sent(create):
    with at_noon_in_new_york():
        created = create([NY]).json()
        down = ProviderError("Twilio is down", code=20500, permanent=False, status=503)
        with mock.patch.object(TwilioProvider, "send_sms", autospec=True, side_effect=down):
            result = broadcast_send_batch(broadcast_id=Broadcast.objects.get().pk, sender=created["senders"][0])
        assert result.retried == 1 and result.more is False
        recipient = BroadcastRecipient.objects.get()
        assert (recipient.status, recipient.error_code, recipient.attempts) == ("pending", "20500", 1)
        assert recipient.next_attempt_at > timezone.now() + timedelta(seconds=4)
        assert not SandboxMessage.objects.exists()
    later = afternoon_in_new_york() + timedelta(minutes=10)
    with mock.patch("django.utils.timezone.now", return_value=later):
        run_all(created["id"])
    recipient.refresh_from_db()
    assert (recipient.status, recipient.attempts) == ("sent", 2)
    assert SandboxMessage.objects.count() == 1


def test_pause_stops_sending_resume_goes_on_cancel_settles(create, owner_api, org):
    before = balance_get(org=org).balance
    with at_noon_in_new_york():
        created = create([NY, LA, VANCOUVER]).json()
        bid = created["id"]
        broadcast = Broadcast.objects.get()
        broadcast_send_batch(broadcast_id=broadcast.pk, sender=created["senders"][0], limit=1)
        assert owner_api.post(f"/broadcasts/{bid}/pause").json()["status"] == "paused"
        run_all(bid)
        assert SandboxMessage.objects.count() == 1  # paused: nothing more
        assert owner_api.post(f"/broadcasts/{bid}/pause").status_code == 200  # pausing twice is fine
        assert owner_api.post(f"/broadcasts/{bid}/resume").json()["status"] == "sending"
        broadcast_send_batch(broadcast_id=broadcast.pk, sender=created["senders"][0], limit=1)
        assert SandboxMessage.objects.count() == 2
        canceled = owner_api.post(f"/broadcasts/{bid}/cancel").json()
        run_all(bid)
    assert SandboxMessage.objects.count() == 2
    assert canceled["status"] == "canceled"
    assert canceled["counts"]["canceled"] == 1 and canceled["counts"]["sent"] == 2
    assert canceled["cost"]["settled"] == 2
    assert balance_get(org=org).balance == before - 2
    assert owner_api.post(f"/broadcasts/{bid}/resume").status_code == 409
    again = owner_api.post(f"/broadcasts/{bid}/cancel")  # canceling twice changes nothing
    assert again.status_code == 200 and again.json()["cost"]["settled"] == 2
    assert balance_get(org=org).balance == before - 2


def test_a_recipient_a_dead_worker_sent_is_kept_as_sent_and_not_sent_again(create, settings):
    with at_noon_in_new_york():
        created = create([NY, LA]).json()
        broadcast = Broadcast.objects.get()
        run_all(created["id"])
        # As if the worker died after the provider took NY's text and before it was recorded; and died
        # after claiming LA, before the provider had it.
        claimed = timezone.now() - timedelta(seconds=settings.BROADCAST_CLAIM_SECONDS + 5)
        ny = BroadcastRecipient.objects.get(e164=NY)
        Message.objects.filter(pk=ny.message_id).delete()
        BroadcastRecipient.objects.filter(e164=NY).update(status="sending", message=None, claimed_at=claimed)
        SandboxMessage.objects.filter(to=LA).delete()
        Message.objects.filter(to_number=LA).delete()
        BroadcastRecipient.objects.filter(e164=LA).update(status="sending", message=None, claimed_at=claimed)
        SandboxMessage.objects.filter(to=NY).update(date_created=claimed + timedelta(seconds=1))
        Broadcast.objects.filter(pk=broadcast.pk).update(status="sending", settled_cost=None)
        assert stale_claims_resolve(broadcast=broadcast, now=timezone.now()) == 2
        run_all(created["id"])
    assert SandboxMessage.objects.filter(to=NY).count() == 1  # found at the provider: not sent again
    assert SandboxMessage.objects.filter(to=LA).count() == 1  # not at the provider: sent once
    ny = BroadcastRecipient.objects.get(e164=NY)
    assert ny.status == "sent" and ny.message.provider_sid == SandboxMessage.objects.get(to=NY).sid


def test_status_callbacks_update_each_recipient(create, owner_api, settings):
    settings.SANDBOX_UNDELIVERED_RATE = 1.0
    with at_noon_in_new_york():
        created = create([NY, LA]).json()
        run_all(created["id"])
    assert sandbox_receipts_post() == 2
    page = owner_api.get(f"/broadcasts/{created['id']}/recipients").json()
    assert [(r["status"], r["deliveryStatus"], r["errorCode"]) for r in page["data"]] == [
        ("sent", "undelivered", "30003"), ("sent", "undelivered", "30003")]
    assert owner_api.get(f"/broadcasts/{created['id']}").json()["counts"]["undelivered"] == 2
    settings.SANDBOX_UNDELIVERED_RATE = 0.0
    with at_noon_in_new_york():
        again = create([VANCOUVER], name="second").json()
        run_all(again["id"])
    sandbox_receipts_post()
    assert owner_api.get(f"/broadcasts/{again['id']}").json()["counts"]["delivered"] == 1


def test_a_dead_workers_claim_through_a_messaging_service_is_found_at_the_provider(org, sandbox, funded, settings):
    from datetime import time

    from phones.broadcasts.services import broadcast_create
    from sandbox.messaging import sandbox_messaging_service_create
    from sandbox.models import SandboxAccount

    service = sandbox_messaging_service_create(account=SandboxAccount.objects.get(sid=sandbox.account_id),
                                               friendly_name="Bulk")
    sandbox.public_config = {**sandbox.public_config, "messagingServiceSid": service.sid}
    sandbox.save(update_fields=["public_config"])
    broadcast = broadcast_create(org=org, name="mg", body="Sale", media_urls=[], numbers=[], messaging_service=True,
                                 inline=[{"phone": NY}], quiet_start=time(8), quiet_end=time(21))
    with mock.patch("phones.broadcasts.quiet_hours.is_open", return_value=True):
        run_all(broadcast.public_id)
    sent = SandboxMessage.objects.get()
    assert (sent.messaging_service_sid, sent.from_number) == (service.sid, "")
    claimed = timezone.now() - timedelta(seconds=settings.BROADCAST_CLAIM_SECONDS + 5)
    Message.objects.all().delete()
    BroadcastRecipient.objects.update(status="sending", message=None, claimed_at=claimed)
    SandboxMessage.objects.update(date_created=claimed + timedelta(seconds=1))
    Broadcast.objects.update(status="sending", settled_cost=None)
    with mock.patch("phones.broadcasts.quiet_hours.is_open", return_value=True):
        run_all(broadcast.public_id)
    assert SandboxMessage.objects.count() == 1
    recipient = BroadcastRecipient.objects.get()
    assert recipient.status == "sent" and recipient.message.provider_sid == sent.sid


def test_a_scheduled_broadcast_waits_for_its_time(create):
    starts = timezone.now().replace(microsecond=0) + timedelta(hours=2)
    created = create([NY], scheduledAt=starts.isoformat()).json()
    assert created["status"] == "scheduled"
    broadcast = Broadcast.objects.get()
    result = broadcast_send_batch(broadcast_id=broadcast.pk, sender=created["senders"][0])
    assert result.next_due == starts and not SandboxMessage.objects.exists()
    with mock.patch("django.utils.timezone.now", return_value=starts + timedelta(seconds=1)), \
            mock.patch("phones.broadcasts.quiet_hours.is_open", return_value=True):
        run_all(created["id"])
    broadcast.refresh_from_db()
    assert broadcast.status == "completed"
    assert SandboxMessage.objects.count() == 1


def test_a_batch_makes_the_same_queries_for_3_recipients_as_for_12(create, settings):
    """Claimed, sent, kept, threaded and recorded in statements that do not grow with the batch (the
    sandbox's own queries, the provider's side, left out)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def ours(batch: CaptureQueriesContext) -> int:
        return sum(1 for query in batch.captured_queries if "sandbox_" not in query["sql"])

    counts = []
    for size, area in ((3, "212"), (12, "310")):
        with at_noon_in_new_york():
            created = create([f"+1{area}555{i:04d}" for i in range(size)], name=f"batch of {size}").json()
            with CaptureQueriesContext(connection) as batch:
                result = broadcast_send_batch(broadcast_id=Broadcast.objects.get(public_id=created["id"]).pk,
                                              sender=created["senders"][0])
        assert result.sent == size and not result.more
        counts.append(ours(batch))
    assert counts[0] == counts[1]
    assert Message.objects.filter(direction="outbound").count() == 15
    assert BroadcastRecipient.objects.filter(status="sent", message__isnull=False).count() == 15
