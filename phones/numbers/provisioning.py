"""The provider half of purchase and release, run by Celery tasks (phones.numbers.tasks).

Each run is idempotent: it claims its job under a lease, leaves a number that has
already moved on alone, and asks the provider before acting. A purchase whose earlier
try timed out (it may have gone through) is resolved by looking the number up, never
by buying again blindly.

A purchase whose job ended with its outcome unknown (the provider kept failing, even to the
look-ups) keeps its number pending and its hold: `purchase_settle` settles it later, from
reconcile (phones.verify) or a staff action, by asking the provider again.
"""
from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from billing.periods import add_months
from billing.services import (
    number_month_key,
    purchase_hold_reverse,
    release_final_billing,
    release_refund,
    usage_record,
)
from orgs.audit import audit_record
from phones.jobs import RetryLater, error_dict, job_claim, job_finish, job_requeue
from phones.models import Job, PhoneNumber
from phones.numbers.selectors import purchase_jobs_under_way, purchases_unsettled
from phones.provider_webhooks import webhooks_for
from phones.trunks.services import trunk_assign_after_purchase
from providers.base import ProviderError, ProvisionedNumber, Regulatory
from providers.registry import provider_for

logger = logging.getLogger(__name__)


def _locked(number: PhoneNumber) -> PhoneNumber:
    return PhoneNumber.objects.select_for_update().get(pk=number.pk)


def _regulatory_kwargs(job: Job) -> dict:
    """The end user's address and bundle the purchase was asked with (job params), for the provider;
    nothing when none were given (a provider without `regulatory_documents` is never given any)."""
    regulatory = Regulatory(address_sid=job.params.get("addressSid", ""), bundle_sid=job.params.get("bundleSid", ""))
    return {"regulatory": regulatory} if regulatory else {}


def purchase_run(*, job_id: int) -> None:
    job = job_claim(job_id)
    if job is None:
        return
    number = job.phone_number
    if number.status != PhoneNumber.Status.PENDING:
        job_finish(job, succeeded=number.status != PhoneNumber.Status.FAILED, result={"phoneId": number.public_id})
        if number.status == PhoneNumber.Status.ACTIVE:
            _assign_trunk(job, number)  # a run that stopped between the purchase and its trunk
        return
    provider = provider_for(number.connection)
    hooks = webhooks_for(number)
    try:
        owned = provider.find_owned(number.e164)
        if owned is None:
            owned = provider.purchase(number.e164, hooks, friendly_name=number.friendly_name,
                                      **_regulatory_kwargs(job))
        else:
            logger.info("purchase job %s adopts %s, already owned by the account", job.public_id, number.e164)
            owned = provider.configure_webhooks(owned.sid, hooks, friendly_name=number.friendly_name or None)
    except ProviderError as exc:
        if exc.permanent:
            _purchase_failed(job, number, error_dict(exc))
            return
        job_requeue(job, error=error_dict(exc))
        raise RetryLater(exc) from exc
    _purchase_succeeded(job, number, owned, hooks.as_dict())


def _purchase_succeeded(job: Job | None, number: PhoneNumber, owned: ProvisionedNumber, hooks: dict,
                        note: dict | None = None) -> bool:
    """Record the number as bought; its hold becomes the charge; then give it to its trunk, if it was
    bought with one (the job's result says how that went). False if it had moved on already."""
    today = timezone.localdate()
    with transaction.atomic():
        number = _locked(number)
        if number.status != PhoneNumber.Status.PENDING:
            if job is not None:
                job_finish(job, succeeded=number.status != PhoneNumber.Status.FAILED)
            return False
        number.provider_sid = owned.sid
        number.status = PhoneNumber.Status.ACTIVE
        number.purchased_at = timezone.now()
        number.next_billing_date = add_months(today, 1)
        number.webhooks = hooks
        if any(owned.capabilities.as_dict().values()):
            number.capabilities = owned.capabilities.as_dict()
        number.save()
        usage_record(org=number.org, phone_number=number, kind="number_month", quantity=1, period=today,
                     key=number_month_key(number, today))
        if job is not None:
            job_finish(job, succeeded=True, result={"phoneId": number.public_id, "sid": owned.sid,
                                                    "phoneNumber": number.e164, **(note or {})})
    _assign_trunk(job, number)
    return True


def _assign_trunk(job: Job | None, number: PhoneNumber) -> None:
    """After the commit (the number is ours whatever the trunk does; a provider call holds no lock):
    give a number bought with a trunk to it, and add how that went to the job's result."""
    trunk = trunk_assign_after_purchase(number=number)
    if trunk is not None and job is not None:
        job.result = {**job.result, "trunk": trunk}
        job.save(update_fields=["result"])


def _purchase_failed(job: Job | None, number: PhoneNumber, error: dict) -> bool:
    """Record the purchase as failed and give the hold back. False if the number had moved on already."""
    with transaction.atomic():
        number = _locked(number)
        failed = number.status == PhoneNumber.Status.PENDING
        if failed:
            number.status = PhoneNumber.Status.FAILED
            number.is_system = False
            number.save(update_fields=["status", "is_system", "updated_at"])
            purchase_hold_reverse(phone_number=number, reason=error.get("message") or "purchase failed")
        if job is not None:
            job_finish(job, succeeded=False, error=error)
    return failed


def purchase_gave_up(*, job_id: int, error: ProviderError) -> None:
    """Retries are exhausted. One last look: owned → done; surely not owned → refund;
    still unknown → the number stays pending with its hold, for reconcile to settle."""
    job = Job.objects.select_related("phone_number__connection").get(pk=job_id)
    number = job.phone_number
    if job.status in Job.FINISHED_STATUSES or number.status != PhoneNumber.Status.PENDING:
        return
    try:
        owned = provider_for(number.connection).find_owned(number.e164)
    except ProviderError as exc:
        job_finish(job, succeeded=False, error={**error_dict(exc), "code": "outcome_unknown",
                                                "message": f"The provider kept failing ({exc.message}); "
                                                           "the purchase will be settled by reconcile"})
        return
    if owned is not None:
        _purchase_succeeded(job, number, owned, webhooks_for(number).as_dict())
    else:
        _purchase_failed(job, number, error_dict(error))


# What purchase_settle found.
ADOPTED, FAILED, UNKNOWN, UNDER_WAY, SETTLED_ALREADY = "adopted", "failed", "unknown", "under_way", "settled"


def purchase_settle(*, number: PhoneNumber, actor=None, via: str = "reconcile") -> str:
    """Settle a pending number whose purchase job ended without an outcome, by asking the provider:

    - the account owns it → adopted: our webhooks are set, the number is active and its hold is
      the charge (nothing more is taken);
    - the provider answers that the account does not own it → the purchase failed: the number is
      `failed` and its hold reversed;
    - the provider fails again → UNKNOWN: nothing changes, the next reconcile tries again.

    A number whose purchase job is still queued or running is left to that job (UNDER_WAY). The
    outcome is written to the purchase job (so GET /jobs/{id} tells the truth) and the audit log.
    """
    number = PhoneNumber.objects.select_related("connection", "org").get(pk=number.pk)
    if number.status != PhoneNumber.Status.PENDING:
        return SETTLED_ALREADY
    if purchase_jobs_under_way(number).exists():
        return UNDER_WAY
    job = Job.objects.filter(phone_number=number, kind=Job.Kind.PURCHASE).order_by("-created_at", "-id").first()
    provider = provider_for(number.connection)
    hooks = webhooks_for(number)
    try:
        owned = provider.find_owned(number.e164)
        if owned is not None:
            owned = provider.configure_webhooks(owned.sid, hooks, friendly_name=number.friendly_name or None)
    except ProviderError as exc:
        logger.info("settling %s: the provider failed again (%s); left pending", number.e164, exc.message)
        return UNKNOWN
    note = {"settledBy": via}
    if owned is not None:
        done = _purchase_succeeded(job, number, owned, hooks.as_dict(), note=note)
        outcome = ADOPTED
    else:
        done = _purchase_failed(job, number, {
            "code": "not_purchased", "settledBy": via,
            "message": f"The provider account does not own {number.e164}: the purchase did not go through "
                       "and its hold was reversed"})
        outcome = FAILED
    if not done:
        return SETTLED_ALREADY
    audit_record(actor=actor, org=number.org, action="phone.purchase_settle", target=number,
                 before={"status": PhoneNumber.Status.PENDING},
                 after={"status": PhoneNumber.Status.ACTIVE if outcome == ADOPTED else PhoneNumber.Status.FAILED,
                        "outcome": outcome, "job": job.public_id if job else None},
                 note=f"Purchase with an unknown outcome settled by {via}")
    return outcome


def purchases_settle(*, org=None, actor=None, via: str = "reconcile") -> dict[str, list[str]]:
    """purchase_settle for every unsettled purchase (of one org, or all): E.164s by outcome."""
    outcomes: dict[str, list[str]] = {}
    for number in purchases_unsettled(org=org).order_by("created_at", "id"):
        outcomes.setdefault(purchase_settle(number=number, actor=actor, via=via), []).append(number.e164)
    return outcomes


def release_run(*, job_id: int) -> None:
    job = job_claim(job_id)
    if job is None:
        return
    number = job.phone_number
    if number.status != PhoneNumber.Status.RELEASING:
        job_finish(job, succeeded=number.status == PhoneNumber.Status.RELEASED)
        return
    try:
        if number.provider_sid:
            provider_for(number.connection).release(number.provider_sid)
    except ProviderError as exc:
        if exc.permanent:
            _release_refused(job, number, error_dict(exc))
            return
        job_requeue(job, error=error_dict(exc))
        raise RetryLater(exc) from exc
    now = timezone.now()
    with transaction.atomic():
        number = _locked(number)
        if number.status != PhoneNumber.Status.RELEASING:
            job_finish(job, succeeded=number.status == PhoneNumber.Status.RELEASED)
            return
        number.status = PhoneNumber.Status.RELEASED
        number.released_at = now
        number.is_system = False
        number.save(update_fields=["status", "released_at", "is_system", "updated_at"])
        refund = release_refund(phone_number=number, released_at=now)
        job_finish(job, succeeded=True, result={
            "phoneId": number.public_id, "phoneNumber": number.e164, "releasedAt": now.isoformat(),
            "finalBilling": release_final_billing(phone_number=number, released_at=now, refund=refund),
        })


def _release_refused(job: Job, number: PhoneNumber, error: dict) -> None:
    """The provider said no: the number stays active, nothing is refunded, the job says why."""
    with transaction.atomic():
        number = _locked(number)
        if number.status == PhoneNumber.Status.RELEASING:
            number.status = PhoneNumber.Status.ACTIVE
            number.save(update_fields=["status", "updated_at"])
        job_finish(job, succeeded=False, error=error)


def release_gave_up(*, job_id: int, error: ProviderError) -> None:
    job = Job.objects.select_related("phone_number").get(pk=job_id)
    if job.status not in Job.FINISHED_STATUSES:
        _release_refused(job, job.phone_number, error_dict(error))
