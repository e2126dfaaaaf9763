"""Broadcasts: checked, priced and held before anything is sent; then sent at each sender's rate,
each send claimed first so no recipient is texted twice.

A recipient's row is its send's key. A worker claims a few due rows at a time (a quarter of a second
of sending) with one conditional UPDATE (pending → sending, only while the broadcast is sending),
calls the provider for each (phones.messaging.services.BulkSender), then records the answers
together. A worker that dies in between leaves the rows `sending`: once a claim is older than
BROADCAST_CLAIM_SECONDS it is looked up at the provider (phones.messaging.services
.sms_sent_find_or_keep) and either kept as sent or sent then, never both.
"""
from __future__ import annotations

import logging
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from time import monotonic

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from billing.services import broadcast_hold, broadcast_hold_settle, locked_balance
from core.errors import Conflict, DomainError, InvalidInput
from core.segments import UCS2, segment_count
from core.update_rows import update_rows
from orgs.models import Org
from orgs.selectors import connection_default
from phones.broadcasts import quiet_hours, recipients, tasks, throttle
from phones.broadcasts.models import Broadcast, BroadcastRecipient
from phones.messaging.services import BulkSender, org_number, sms_sent_find_or_keep, with_opt_out_language
from phones.models import Contact, NumberType, OptOut, PhoneNumber
from providers.base import ProviderError, SentMessage

logger = logging.getLogger(__name__)

Status, RStatus = Broadcast.Status, BroadcastRecipient.Status
# How long one batch task sends before it hands on to the next (a pause is seen at once regardless).
BATCH_SECONDS = 30.0
# How much sending one claim covers at the sender's rate (at least one recipient).
CLAIM_SECONDS = 0.25


# ---------------------------------------------------------------- senders

@dataclass(frozen=True)
class Senders:
    connection_id: int
    keys: list[str]  # E.164 numbers, or [the messaging service SID]
    rates: dict[str, float]
    messaging_service_sid: str = ""


def _number_rate(number: PhoneNumber) -> float:
    if number.number_type == NumberType.TOLL_FREE:
        return settings.BROADCAST_RATE_TOLL_FREE
    return settings.BROADCAST_RATE_LONG_CODE


def senders_resolve(*, org: Org, numbers: list[str], messaging_service: bool) -> Senders:
    """The numbers asked for (the org's, live, on one connection), or the default connection's messaging
    service, or (neither asked) the sender a single text would go from (phones.messaging.services.sender_for)."""
    if numbers and messaging_service:
        raise InvalidInput("Give `from` numbers or messagingService, not both", field="from")
    if messaging_service:
        connection = connection_default(org=org)
        sid = connection.public_config.get("messagingServiceSid")
        if not sid:
            raise InvalidInput("The connection has no messagingServiceSid", code="no_messaging_service",
                               field="messagingService")
        return Senders(connection.pk, [sid], {sid: settings.BROADCAST_RATE_MESSAGING_SERVICE}, sid)
    if not numbers:
        connection = connection_default(org=org)
        sid = connection.public_config.get("messagingServiceSid")
        if sid:
            return Senders(connection.pk, [sid], {sid: settings.BROADCAST_RATE_MESSAGING_SERVICE}, sid)
        default = connection.public_config.get("defaultSenderNumber")
        system = (PhoneNumber.objects.filter(org=org, e164=default, status__in=PhoneNumber.LIVE_STATUSES).first()
                  if default else
                  PhoneNumber.objects.filter(org=org, is_system=True, status__in=PhoneNumber.LIVE_STATUSES).first())
        if system is None:
            raise InvalidInput("No sender: give `from`, or messagingService, or set a system phone",
                               code="no_sender", field="from")
        numbers = [system.e164]
    found = [org_number(org, e164, "from") for e164 in dict.fromkeys(numbers)]
    if len({n.connection_id for n in found}) > 1:
        raise InvalidInput("All `from` numbers must be on one provider connection", field="from")
    return Senders(found[0].connection_id, [n.e164 for n in found], {n.e164: _number_rate(n) for n in found})


# ---------------------------------------------------------------- creating a broadcast

def unit_cost(segments: int, has_media: bool) -> int:
    return settings.MMS_MESSAGE_PRICE if has_media else segments * settings.SMS_SEGMENT_PRICE


def broadcast_create(*, org: Org, name: str, body: str, media_urls: list[str], numbers: list[str],
                     messaging_service: bool, inline: list[dict] | None = None, csv_text: str | None = None,
                     tag: str | None = None, scheduled_at: datetime | None = None,
                     quiet_start: time = quiet_hours.DEFAULT_START, quiet_end: time = quiet_hours.DEFAULT_END,
                     default_region: str = "US", created_by: AbstractBaseUser | None = None) -> Broadcast:
    """Check every recipient, drop the opted-out, count segments, append the opt-out language, hold
    the estimated cost (402 when short), and keep it all; the sending starts after commit (or at
    scheduledAt). The queries do not grow with the number of recipients."""
    quiet_hours.window_check(quiet_start, quiet_end)
    if not body.strip() and not media_urls:
        raise InvalidInput("A broadcast needs a body or media", field="body")
    if sum(x is not None for x in (inline, csv_text, tag)) != 1:
        raise InvalidInput("Give exactly one of recipients, csv and tag", field="recipients")
    senders = senders_resolve(org=org, numbers=numbers, messaging_service=messaging_service)
    contacts = {e164: (first, last, fields, tags) for e164, first, last, fields, tags in
                Contact.objects.filter(org=org).values_list("e164", "first_name", "last_name", "fields", "tags")}
    if tag is not None:
        rows = ((i, e164, {}) for i, e164 in enumerate(
            sorted(e for e, (*_, tags) in contacts.items() if isinstance(tags, list) and tag in tags), start=1))
    elif csv_text is not None:
        rows = recipients.csv_rows(csv_text)
    else:
        rows = recipients.inline_rows(inline or [])
    parsed = recipients.parse_rows(rows, default_region=default_region)
    opted_out = set(OptOut.objects.filter(org=org, lifted_at__isnull=True).values_list("e164", flat=True))
    now = timezone.now()
    start_at = max(scheduled_at or now, now)
    has_media = bool(media_urls)
    counted: dict[str, tuple[int, str, str | None]] = {}
    keep: list[BroadcastRecipient] = []
    removed = estimate = segments_total = 0
    encodings: Counter[str] = Counter()
    offender = ""
    uses_variables = bool(recipients.template_variables(body))
    for index, r in enumerate(parsed.recipients):
        if r.e164 in opted_out:
            removed += 1
            continue
        variables = r.variables
        known = contacts.get(r.e164)
        if known is not None and uses_variables:
            first, last, fields, _ = known
            variables = {**(fields if isinstance(fields, dict) else {}), "firstName": first, "lastName": last,
                         **{k: v for k, v in variables.items() if v}}
        text = recipients.render(body, variables) if uses_variables else body
        text = with_opt_out_language(text, r.e164, region=r.region) if text.strip() else text
        if len(text) > 1600:
            raise InvalidInput(f"Row {r.row}: the text is {len(text)} characters, over the 1600 an SMS can carry",
                               field="body")
        if text not in counted:
            count = segment_count(text)
            counted[text] = (count.segments, count.encoding, count.non_gsm_name or None)
        segments, encoding, non_gsm = counted[text]
        encodings[encoding] += 1
        if non_gsm and not offender:
            offender = non_gsm
        segments_total += segments
        estimate += unit_cost(segments, has_media)
        keep.append(BroadcastRecipient(
            row=r.row, e164=r.e164, body=text, segments=segments, sender=senders.keys[index % len(senders.keys)],
            time_zones=",".join(quiet_hours.time_zones(r.e164)), next_attempt_at=start_at))
    if not keep:
        raise InvalidInput("No one to send to: every recipient was invalid, a duplicate or opted out",
                           code="no_recipients", field="recipients", invalidRows=parsed.invalid[:20])
    with transaction.atomic():
        balance = locked_balance(org=org)
        broadcast = Broadcast.objects.create(
            org=org, connection_id=senders.connection_id, name=name, body=body, media_urls=media_urls,
            senders=senders.keys if not senders.messaging_service_sid else [],
            messaging_service_sid=senders.messaging_service_sid, sender_rates=senders.rates,
            scheduled_at=start_at, quiet_start=quiet_start, quiet_end=quiet_end,
            status=Status.SENDING if start_at <= now else Status.SCHEDULED,
            started_at=now if start_at <= now else None,
            total_rows=parsed.total_rows, invalid_count=parsed.invalid_count, invalid_rows=parsed.invalid,
            duplicate_count=parsed.duplicate_count, opted_out_count=removed, recipient_count=len(keep),
            segments_total=segments_total, encoding=UCS2 if encodings[UCS2] else "GSM-7", non_gsm_char=offender,
            currency=balance.currency, unit_price=settings.MMS_MESSAGE_PRICE if has_media
            else settings.SMS_SEGMENT_PRICE, estimated_cost=estimate, created_by=created_by)
        broadcast_hold(org=org, broadcast_id=broadcast.public_id, amount=estimate, created_by=created_by,
                       description=f"Broadcast {name[:80]}: {len(keep)} recipients, {segments_total} segments")
        _insert_recipients(broadcast, keep)
        # A scheduled one too: its chain waits for scheduledAt (or, hours off, beat's tick starts it).
        transaction.on_commit(lambda: dispatch(broadcast))
    return broadcast


_COPIED = ("broadcast_id", "row", "e164", "body", "segments", "sender", "time_zones", "status", "next_attempt_at",
           "attempts", "error_code", "error_message")


def _insert_recipients(broadcast: Broadcast, rows: list[BroadcastRecipient]) -> None:
    """One COPY on PostgreSQL (100,000 rows in about a second, where an INSERT's parameters alone take
    ten); bulk_create in batches elsewhere (SQLite's bound-parameter limit)."""
    if connection.vendor != "postgresql":
        for recipient in rows:
            recipient.broadcast = broadcast
        BroadcastRecipient.objects.bulk_create(rows, batch_size=500)
        return
    table = connection.ops.quote_name(BroadcastRecipient._meta.db_table)
    connection.ensure_connection()
    # The raw psycopg connection, inside the caller's transaction.
    with connection.connection.cursor() as cursor, cursor.copy(
            f"COPY {table} ({', '.join(_COPIED)}) FROM STDIN") as copy:
        for r in rows:
            copy.write_row((broadcast.pk, r.row, r.e164, r.body, r.segments, r.sender, r.time_zones, r.status,
                            r.next_attempt_at, 0, "", ""))


# ---------------------------------------------------------------- pause, resume, cancel

def broadcast_pause(*, broadcast: Broadcast) -> Broadcast:
    """Stop sending: no recipient is claimed once this commits (a send already at the provider finishes)."""
    updated = Broadcast.objects.filter(pk=broadcast.pk, status__in=(Status.SENDING, Status.SCHEDULED)
                                       ).update(status=Status.PAUSED)
    broadcast.refresh_from_db()
    if not updated and broadcast.status != Status.PAUSED:
        raise Conflict(f"A {broadcast.status} broadcast cannot be paused", code="broadcast_not_running")
    return broadcast


def broadcast_resume(*, broadcast: Broadcast) -> Broadcast:
    now = timezone.now()
    status = Status.SCHEDULED if broadcast.scheduled_at > now else Status.SENDING
    updated = Broadcast.objects.filter(pk=broadcast.pk, status=Status.PAUSED).update(
        status=status, started_at=broadcast.started_at or (now if status == Status.SENDING else None))
    broadcast.refresh_from_db()
    if not updated and broadcast.status not in (Status.SENDING, Status.SCHEDULED):
        raise Conflict(f"A {broadcast.status} broadcast cannot be resumed", code="broadcast_not_paused")
    if updated:
        transaction.on_commit(lambda: dispatch(broadcast))
    return broadcast


def broadcast_cancel(*, broadcast: Broadcast) -> Broadcast:
    """Nothing more is sent; the recipients not sent are canceled and the hold settled to what was."""
    with transaction.atomic():
        updated = Broadcast.objects.filter(pk=broadcast.pk).exclude(status__in=Broadcast.FINISHED).update(
            status=Status.CANCELED, finished_at=timezone.now())
        broadcast.refresh_from_db()
        if not updated and broadcast.status != Status.CANCELED:
            raise Conflict(f"A {broadcast.status} broadcast cannot be canceled", code="broadcast_finished")
        BroadcastRecipient.objects.filter(broadcast=broadcast, status=RStatus.PENDING).update(
            status=RStatus.CANCELED)
    broadcast_settle_if_done(broadcast=broadcast)
    return broadcast


# ---------------------------------------------------------------- sending

def dispatch(broadcast: Broadcast, countdown: float = 0) -> None:
    """One batch task per sender (each sender's rate is its own)."""
    for sender in broadcast.sender_rates:
        tasks.enqueue_batch(broadcast.pk, sender, countdown)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 300) + random.uniform(0, 2))


def _finish(recipient_id: int, **fields) -> None:
    BroadcastRecipient.objects.filter(pk=recipient_id, status=RStatus.SENDING).update(**fields)


def recipients_claim(*, broadcast: Broadcast, sender: str, now: datetime, limit: int
                     ) -> tuple[list[BroadcastRecipient], int, bool]:
    """Claim up to `limit` of the sender's due recipients, oldest first: pending → sending in one
    conditional UPDATE, only while the broadcast is sending. The rows are picked with SKIP LOCKED
    (PostgreSQL), so workers sharing a sender each take different ones; those outside their quiet
    hours are not claimed but moved to when their window opens. Returns (claimed, deferred,
    stopped): stopped when the broadcast was paused or canceled."""
    with transaction.atomic():
        due = list(BroadcastRecipient.objects.select_for_update(skip_locked=True)
                   .filter(broadcast=broadcast, sender=sender, status=RStatus.PENDING, next_attempt_at__lte=now)
                   .order_by("next_attempt_at", "row")
                   .only("pk", "row", "e164", "body", "sender", "time_zones", "attempts", "claimed_at")[:limit])
        by_zones: dict[tuple[str, ...], list[BroadcastRecipient]] = {}
        for recipient in due:
            by_zones.setdefault(tuple(z for z in recipient.time_zones.split(",") if z), []).append(recipient)
        claims, deferred = [], 0
        for zones, group in by_zones.items():
            if quiet_hours.is_open(now, zones, broadcast.quiet_start, broadcast.quiet_end):
                claims += group
                continue
            deferred += len(group)
            BroadcastRecipient.objects.filter(pk__in=[r.pk for r in group], status=RStatus.PENDING).update(
                next_attempt_at=quiet_hours.next_open(now, zones, broadcast.quiet_start, broadcast.quiet_end))
        if not claims:
            return [], deferred, False
        claimed = BroadcastRecipient.objects.filter(
            pk__in=[r.pk for r in claims], status=RStatus.PENDING, broadcast__status=Status.SENDING).update(
            status=RStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return [], deferred, True
    claims.sort(key=lambda r: r.row)
    for recipient in claims:
        recipient.attempts += 1
        recipient.claimed_at = now
    return claims, deferred, False


def recipients_unclaim(recipients: list[BroadcastRecipient]) -> None:
    """Give back claims that were never sent (no token came in time)."""
    if recipients:
        BroadcastRecipient.objects.filter(pk__in=[r.pk for r in recipients], status=RStatus.SENDING).update(
            status=RStatus.PENDING, attempts=F("attempts") - 1)


@dataclass
class _Outcomes:
    """What became of a batch's claims, written in a few statements at its end."""

    sent: list[tuple[BroadcastRecipient, SentMessage]] = field(default_factory=list)
    done: dict[tuple, list[int]] = field(default_factory=dict)  # (status, code, text) -> recipient ids
    retry: list[tuple[int, str, str, int]] = field(default_factory=list)  # id, code, text, attempts

    def finish(self, recipient: BroadcastRecipient, status: str, code: str = "", text: str = "") -> None:
        self.done.setdefault((status, code[:32], text[:255]), []).append(recipient.pk)


def recipients_send(*, broadcast: Broadcast, claims: list[BroadcastRecipient], rate: float, deadline: float,
                    result: BatchResult) -> bool:
    """Send claimed recipients through the messaging send path (phones.messaging.services.BulkSender),
    each after a token of the sender's rate; keep what was sent and record every outcome. False when
    no token came before `deadline` (the claims not sent are given back)."""
    outcomes = _Outcomes()
    from_ = None if broadcast.messaging_service_sid else claims[0].sender
    try:
        bulk = BulkSender(org=broadcast.org, from_=from_, media_urls=broadcast.media_urls)
        # A STOP that came while the broadcast ran: not sent (checked for each batch, just before it).
        stopped = bulk.opted_out({r.e164 for r in claims})
    except DomainError as exc:  # the sender is gone (released, the connection removed)
        for recipient in claims:
            outcomes.finish(recipient, RStatus.FAILED, exc.code, str(exc))
        _record(outcomes, result)
        return True
    in_time = True
    for index, recipient in enumerate(claims):
        if recipient.e164 in stopped:
            outcomes.finish(recipient, RStatus.OPTED_OUT, "recipient_opted_out")
            continue
        # Claimed first, then the token: a token is never spent on a recipient another worker took.
        if not throttle.take(recipient.sender, rate, deadline=deadline):
            recipients_unclaim(claims[index:])
            in_time = False
            break
        try:
            answer = bulk.send(to=recipient.e164, body=recipient.body)
        except ProviderError as exc:
            _provider_failed(outcomes, recipient, exc)
            continue
        outcomes.sent.append((recipient, answer))
    _record(outcomes, result, bulk)
    return in_time


def _provider_failed(outcomes: _Outcomes, recipient: BroadcastRecipient, exc: ProviderError) -> None:
    code, text = str(exc.code or ""), exc.message
    if exc.outcome_unknown:
        # The provider may have it: left claimed, and looked up once the claim is stale.
        logger.warning("broadcast recipient %s: outcome unknown (%s); resolved by lookup", recipient.pk, text)
        return
    if exc.permanent or recipient.attempts >= settings.BROADCAST_MAX_ATTEMPTS:
        outcomes.finish(recipient, RStatus.FAILED, code, text)
        return
    outcomes.retry.append((recipient.pk, code[:32], text[:255], recipient.attempts))


def _record(outcomes: _Outcomes, result: BatchResult, bulk: BulkSender | None = None) -> None:
    """The batch's outcomes, in statements that do not grow with it: the sent texts kept (threaded)
    and their recipients marked sent together; the others grouped by outcome."""
    with transaction.atomic():
        if outcomes.sent:
            messages = bulk.keep([(r.e164, r.body, answer) for r, answer in outcomes.sent])
            now = timezone.now()
            update_rows(BroadcastRecipient, ("status", "message", "sent_at", "error_code", "error_message"),
                        {r.pk: (RStatus.SENT, message.pk, now, "", "")
                         for (r, _), message in zip(outcomes.sent, messages, strict=True)})
        for (status, code, text), ids in outcomes.done.items():
            BroadcastRecipient.objects.filter(pk__in=ids, status=RStatus.SENDING).update(
                status=status, error_code=code, error_message=text)
        for pk, code, text, attempts in outcomes.retry:
            BroadcastRecipient.objects.filter(pk=pk, status=RStatus.SENDING).update(
                status=RStatus.PENDING, error_code=code, error_message=text,
                next_attempt_at=timezone.now() + _backoff(attempts))
    result.sent += len(outcomes.sent)
    result.retried += len(outcomes.retry)
    for (status, _, _), ids in outcomes.done.items():
        result.failed += len(ids) if status == RStatus.FAILED else 0
        result.opted_out += len(ids) if status == RStatus.OPTED_OUT else 0


def stale_claims_resolve(*, broadcast: Broadcast, now: datetime) -> int:
    """Recipients claimed by a worker that never finished: kept as sent when the provider has the text,
    else made pending again (and sent by the next batch). Without a provider lookup they fail as
    `outcome_unknown` rather than risk a second text."""
    stale = list(BroadcastRecipient.objects.filter(
        broadcast=broadcast, status=RStatus.SENDING,
        claimed_at__lt=now - timedelta(seconds=settings.BROADCAST_CLAIM_SECONDS)))
    for recipient in stale:
        from_ = None if broadcast.messaging_service_sid else recipient.sender
        try:
            message = sms_sent_find_or_keep(org=broadcast.org, to=recipient.e164, body=recipient.body,
                                            media_urls=broadcast.media_urls or None, from_=from_,
                                            since=recipient.claimed_at - timedelta(seconds=5))
        except ProviderError as exc:
            if not exc.permanent:
                continue  # try again at the next batch
            _finish(recipient.pk, status=RStatus.FAILED, error_code="outcome_unknown",
                    error_message=f"The provider cannot say whether it was sent: {exc.message}"[:255])
            continue
        except DomainError as exc:
            _finish(recipient.pk, status=RStatus.FAILED, error_code=exc.code[:32], error_message=str(exc)[:255])
            continue
        if message is None:
            logger.info("broadcast recipient %s: not at the provider; sending again", recipient.pk)
            _finish(recipient.pk, status=RStatus.PENDING, next_attempt_at=now)
        else:
            logger.info("broadcast recipient %s: found at the provider as %s; not sent again",
                        recipient.pk, message.provider_sid)
            _finish(recipient.pk, status=RStatus.SENT, message=message, sent_at=message.created_at)
    return len(stale)


@dataclass
class BatchResult:
    sent: int = 0
    failed: int = 0
    opted_out: int = 0
    retried: int = 0
    deferred: int = 0
    more: bool = False  # recipients due now remain
    next_due: datetime | None = None


def broadcast_send_batch(*, broadcast_id: int, sender: str, limit: int | None = None,
                         seconds: float | None = None) -> BatchResult:
    """Send up to `limit` due recipients of one sender at its rate, for at most `seconds`."""
    result = BatchResult()
    broadcast = Broadcast.objects.select_related("org").filter(pk=broadcast_id).first()
    if broadcast is None:
        return result
    now = timezone.now()
    if broadcast.status == Status.SCHEDULED and broadcast.scheduled_at <= now:
        Broadcast.objects.filter(pk=broadcast.pk, status=Status.SCHEDULED).update(status=Status.SENDING,
                                                                                  started_at=now)
        broadcast.status = Status.SENDING
    if broadcast.status == Status.SCHEDULED:
        result.next_due = broadcast.scheduled_at
        return result
    if broadcast.status != Status.SENDING:
        broadcast_settle_if_done(broadcast=broadcast)
        return result
    stale_claims_resolve(broadcast=broadcast, now=now)
    rate = float(broadcast.sender_rates.get(sender) or settings.BROADCAST_RATE_LONG_CODE)
    limit = limit or settings.BROADCAST_BATCH_SIZE
    deadline = monotonic() + (seconds if seconds is not None else BATCH_SECONDS)
    due = BroadcastRecipient.objects.filter(broadcast=broadcast, sender=sender, status=RStatus.PENDING)
    # Claims of at most CLAIM_SECONDS of sending: a STOP is read again for each, and a dead worker's
    # claims are few.
    size = max(1, math.ceil(rate * CLAIM_SECONDS))
    done = 0
    while done < limit and monotonic() < deadline:
        claims, deferred, stopped = recipients_claim(broadcast=broadcast, sender=sender, now=timezone.now(),
                                                     limit=min(size, limit - done))
        result.deferred += deferred
        if stopped or (not claims and not deferred):
            break
        if not claims:
            continue
        done += len(claims)
        if not recipients_send(broadcast=broadcast, claims=claims, rate=rate, deadline=deadline, result=result):
            break
    now = timezone.now()
    result.more = due.filter(next_attempt_at__lte=now).exists()
    if not result.more:
        nxt = due.order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first()
        # A claim a dead worker left: due for its lookup once it is stale.
        claimed = (BroadcastRecipient.objects.filter(broadcast=broadcast, sender=sender, status=RStatus.SENDING)
                   .order_by("claimed_at").values_list("claimed_at", flat=True).first())
        if claimed is not None:
            stale_at = claimed + timedelta(seconds=settings.BROADCAST_CLAIM_SECONDS + 1)
            nxt = min(nxt, stale_at) if nxt else stale_at
        result.next_due = nxt
        if nxt is None:
            broadcast_settle_if_done(broadcast=broadcast)
    return result


def actual_cost(broadcast: Broadcast) -> int:
    """What was sent, priced: the provider's segment count of each text sent (per MMS with media)."""
    sent = BroadcastRecipient.objects.filter(broadcast=broadcast, status=RStatus.SENT)
    if broadcast.media_urls:
        return sent.count() * broadcast.unit_price
    total = sent.aggregate(known=Sum("message__segments", default=0),
                           unknown=Sum("segments", filter=Q(message__isnull=True), default=0))
    return (total["known"] + total["unknown"]) * broadcast.unit_price


def broadcast_settle_if_done(*, broadcast: Broadcast) -> bool:
    """When no recipient is left to send or in flight: complete the broadcast (unless canceled) and
    settle its hold to the actual cost. Once."""
    open_ = BroadcastRecipient.objects.filter(broadcast=broadcast, status__in=(RStatus.PENDING, RStatus.SENDING))
    if broadcast.status in (Status.PAUSED, Status.SCHEDULED) or open_.exists():
        return False
    with transaction.atomic():
        locked = Broadcast.objects.select_for_update().get(pk=broadcast.pk)
        if locked.settled_cost is not None:
            return False
        cost = actual_cost(locked)
        broadcast_hold_settle(org=locked.org, broadcast_id=locked.public_id, actual=cost)
        locked.settled_cost = cost
        if locked.status != Status.CANCELED:
            locked.status = Status.COMPLETED
        locked.finished_at = locked.finished_at or timezone.now()
        locked.save(update_fields=["settled_cost", "status", "finished_at"])
    broadcast.refresh_from_db()
    return True


def broadcasts_tick() -> int:
    """Beat: start the scheduled broadcasts that are due and send a batch for every sender of each one
    sending (a batch whose task was lost is sent again; a second copy only shares the sender's rate)."""
    now = timezone.now()
    running = list(Broadcast.objects.filter(
        Q(status=Status.SENDING) | Q(status=Status.SCHEDULED, scheduled_at__lte=now)))
    for broadcast in running:
        dispatch(broadcast)
    return len(running)
