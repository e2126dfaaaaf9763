"""The provider half of purchase and release, run by Celery tasks (phones.numbers.tasks).

Each run is idempotent: it claims its job under a lease, leaves a number that has
already moved on alone, and asks the provider before acting. A purchase whose earlier
try timed out (it may have gone through) is resolved by looking the number up, never
by buying again blindly.
"""
from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from billing.periods import add_months
from billing.services import number_month_key, purchase_hold_reverse, release_refund, usage_record
from phones.jobs import RetryLater, error_dict, job_claim, job_finish, job_requeue
from phones.models import Job, PhoneNumber
from phones.provider_webhooks import webhooks_for
from providers.base import ProviderError, ProvisionedNumber
from providers.registry import provider_for

logger = logging.getLogger(__name__)


def _locked(number: PhoneNumber) -> PhoneNumber:
    return PhoneNumber.objects.select_for_update().get(pk=number.pk)


def purchase_run(*, job_id: int) -> None:
    job = job_claim(job_id)
    if job is None:
        return
    number = job.phone_number
    if number.status != PhoneNumber.Status.PENDING:
        job_finish(job, succeeded=number.status != PhoneNumber.Status.FAILED, result={"phoneId": number.public_id})
        return
    provider = provider_for(number.connection)
    hooks = webhooks_for(number)
    try:
        owned = provider.find_owned(number.e164)
        if owned is None:
            owned = provider.purchase(number.e164, hooks, friendly_name=number.friendly_name)
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


def _purchase_succeeded(job: Job, number: PhoneNumber, owned: ProvisionedNumber, hooks: dict) -> None:
    today = timezone.localdate()
    with transaction.atomic():
        number = _locked(number)
        if number.status != PhoneNumber.Status.PENDING:
            job_finish(job, succeeded=number.status != PhoneNumber.Status.FAILED)
            return
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
        job_finish(job, succeeded=True, result={"phoneId": number.public_id, "sid": owned.sid,
                                                "phoneNumber": number.e164})


def _purchase_failed(job: Job, number: PhoneNumber, error: dict) -> None:
    with transaction.atomic():
        number = _locked(number)
        if number.status == PhoneNumber.Status.PENDING:
            number.status = PhoneNumber.Status.FAILED
            number.is_system = False
            number.save(update_fields=["status", "is_system", "updated_at"])
            purchase_hold_reverse(phone_number=number, reason=error.get("message") or "purchase failed")
        job_finish(job, succeeded=False, error=error)


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
            "finalBilling": {"proratedRefund": refund, "currency": number.currency},
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
