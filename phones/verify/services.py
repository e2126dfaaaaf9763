"""Verify and reconcile: what the provider has, against what we recorded.

For each provider account an org is connected to, the account's inventory is read with paged
lists (up to 1,000 numbers a request, never one request per number), plus its messaging
services. Then, per number recorded here: the webhook checks (phones.verify.checks), its SMS
registration, and whether it is still there at all. Found on only one side:

- recorded here but gone at the provider: flagged `missing` (with `missing_since`). Renewals
  only charge active and past-due numbers, so billing stops; nothing is refunded, released or
  bought: staff decide.
- at the provider but recorded nowhere for that account: listed as importable.

`repair` re-points drifted webhooks with configure_webhooks(webhooks_for(number)), and puts a
number whose SIP trunk at the provider is not the recorded one on the recorded trunk (or off any,
when none is recorded), and nothing else: no purchase, release or charge. Every run is stored as a VerifyReport.

A reconcile job (beat's, not a verify the API or staff ask for) first settles the org's purchases
whose outcome is unknown (phones.numbers.provisioning.purchase_settle): pending numbers whose job
gave up while the provider kept failing. Found at the provider → adopted, its hold is the charge;
confirmed absent → failed, its hold reversed; provider still failing → left for the next run.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from core.errors import ProviderNotConfigured
from orgs.audit import audit_record
from orgs.models import Org, ProviderConnection
from orgs.selectors import connection_default, phone_connections
from phones.jobs import RetryLater, error_dict, job_claim, job_enqueue, job_finish, job_requeue
from phones.models import Job, PhoneNumber, VerifyReport
from phones.numbers.provisioning import purchases_settle
from phones.provider_webhooks import webhooks_for
from phones.verify import checks
from phones.verify.tasks import verify_numbers
from providers.base import MessagingService, PhoneProvider, ProviderError, ProvisionedNumber, Webhooks
from providers.registry import provider_for

# Numbers that should exist at the provider: checked, and flagged when gone.
CHECKED = (*PhoneNumber.BILLED_STATUSES, PhoneNumber.Status.MISSING)
PAGE_SIZE = 1000
# Up to this many numbers are looked up one by one; more, and the paged inventory is cheaper.
TARGETED_MAX = 25
# Reading the inventory is most of the work; the last part of the bar is checking and repairing.
LISTING_SHARE = 80

Progress = Callable[[int], None]


@dataclass
class Inventory:
    """One provider account's numbers as read now."""

    by_sid: dict[str, ProvisionedNumber] = field(default_factory=dict)
    by_e164: dict[str, ProvisionedNumber] = field(default_factory=dict)
    complete: bool = False  # the whole account was listed, so "not recorded here" means something
    requests: int = 0

    def add(self, owned: ProvisionedNumber) -> None:
        self.by_sid[owned.sid] = owned
        self.by_e164[owned.e164] = owned

    def find(self, number: PhoneNumber) -> ProvisionedNumber | None:
        if number.provider_sid:
            return self.by_sid.get(number.provider_sid)
        return self.by_e164.get(number.e164)


def inventory_list(provider: PhoneProvider, *, expected: int, on_page: Progress | None = None) -> Inventory:
    """Every number of the account, page after page; `expected` only scales the progress."""
    inventory = Inventory(complete=True)
    page = None
    while True:
        result = provider.list_owned(page, page_size=PAGE_SIZE)
        inventory.requests += 1
        for owned in result.numbers:
            inventory.add(owned)
        if on_page:
            on_page(min(LISTING_SHARE, LISTING_SHARE * len(inventory.by_sid) // max(expected, 1)))
        if not result.next_page:
            return inventory
        page = result.next_page


def inventory_lookup(provider: PhoneProvider, numbers: Iterable[PhoneNumber]) -> Inventory:
    """A few numbers, each looked up by E.164: cheaper than listing a big account."""
    inventory = Inventory(complete=False)
    for number in numbers:
        owned = provider.find_owned(number.e164)
        inventory.requests += 1
        if owned is not None:
            inventory.add(owned)
    return inventory


@dataclass
class AccountRun:
    """One provider account of the org, with the recorded numbers that live on it."""

    connection: ProviderConnection
    numbers: list[PhoneNumber]


def _accounts(org: Org, numbers: list[PhoneNumber] | None) -> list[AccountRun]:
    """The org's active connections, one per provider account (two connections to one account
    share an inventory), each with the numbers to check on it."""
    connections = list(phone_connections(org).order_by("created_at", "id"))
    if not connections:
        raise ProviderNotConfigured()
    if numbers is None:
        numbers = list(PhoneNumber.objects.filter(org=org, status__in=CHECKED, connection__is_active=True)
                       .select_related("connection", "trunk").order_by("e164"))
    runs: dict[tuple[str, str], AccountRun] = {}
    for connection in connections:
        runs.setdefault((connection.type, connection.account_id), AccountRun(connection, []))
    for number in numbers:
        key = (number.connection.type, number.connection.account_id)
        if key in runs:
            runs[key].numbers.append(number)
    return list(runs.values())


def _services_by_number(provider: PhoneProvider) -> tuple[dict[str, MessagingService], str]:
    """E.164 → its messaging service, and "" or the error. A failure here costs the SMS
    registration part of the report, not the whole run."""
    try:
        services = provider.list_messaging_services()
    except ProviderError as exc:
        return {}, exc.message
    return {e164: service for service in services for e164 in service.numbers}, ""


def _registration(number: PhoneNumber, owned: ProvisionedNumber, services: dict[str, MessagingService],
                  services_error: str) -> dict:
    if services_error:
        return checks.registration_unknown(services_error)
    return checks.sms_registration(
        country=number.country, number_type=number.number_type, sms_capable=owned.capabilities.sms,
        service=services.get(owned.e164),
        expected_service_sid=number.connection.public_config.get("messagingServiceSid", ""))


def _expected_trunk(number: PhoneNumber) -> str:
    """The SID of the SIP trunk recorded for the number (assigned, or still to be), "" for none."""
    return number.trunk.provider_sid if number.trunk_id else ""


def _entry(number: PhoneNumber, result: str) -> dict:
    return {"phoneId": number.public_id, "phoneNumber": number.e164, "sid": number.provider_sid,
            "connectionId": number.connection.public_id, "status": number.status, "isSystem": number.is_system,
            "result": result, "voice": None, "sms": None, "statusCallback": None, "trunk": None,
            "smsRegistration": None,
            "missingSince": number.missing_since.isoformat() if number.missing_since else None,
            "repaired": False, "repairError": None}


@dataclass
class RunState:
    entries: list[dict] = field(default_factory=list)
    importable: list[dict] = field(default_factory=list)
    newly_missing: list[PhoneNumber] = field(default_factory=list)
    repaired: list[dict] = field(default_factory=list)
    inventory_requests: int = 0
    registration_errors: list[str] = field(default_factory=list)


def _repair(provider: PhoneProvider, number: PhoneNumber, hooks: Webhooks, entry: dict,
            services: dict[str, MessagingService], state: RunState) -> None:
    """Put the number on its recorded trunk (or off any) when that differs, and re-point the URLs;
    the entry then shows the provider's answer, checked again."""
    before = {name: entry[name]["actual"] for name in checks.WEBHOOKS}
    sid = number.provider_sid or entry["sid"]
    trunk = entry["trunk"]
    try:
        if entry["voice"]["status"] == checks.TRUNK_MISMATCH:
            if trunk["actual"]:
                provider.trunk_unassign(trunk["actual"], sid)
            if trunk["expected"]:
                provider.trunk_assign(trunk["expected"], sid)
                PhoneNumber.objects.filter(pk=number.pk, trunk_id=number.trunk_id).update(
                    trunk_status=PhoneNumber.TrunkStatus.ASSIGNED)
            before["trunk"] = trunk["actual"]
        owned = provider.configure_webhooks(sid, hooks)
    except ProviderError as exc:
        entry["repairError"] = error_dict(exc)
        return
    PhoneNumber.objects.filter(pk=number.pk).update(webhooks=hooks.as_dict(), updated_at=timezone.now())
    entry["trunk"] = {"expected": trunk["expected"], "actual": owned.trunk_sid or None}
    entry.update(checks.webhook_checks(owned, hooks, services.get(owned.e164), _expected_trunk(number)))
    entry["result"] = checks.outcome({name: entry[name] for name in checks.WEBHOOKS})
    entry["repaired"] = True
    after = {name: entry[name]["actual"] for name in checks.WEBHOOKS}
    if "trunk" in before:
        after["trunk"] = entry["trunk"]["actual"]
    state.repaired.append({"phoneId": number.public_id, "phoneNumber": number.e164, "before": before,
                           "after": after})


def _check_account(run: AccountRun, *, targeted: bool, repair: bool, state: RunState,
                   progress: Progress | None) -> None:
    provider = provider_for(run.connection)
    # Anything that became ours after this instant may be absent from the listing: never flag it.
    started = timezone.now()
    if targeted:
        inventory = inventory_lookup(provider, run.numbers)
    else:
        inventory = inventory_list(provider, expected=len(run.numbers), on_page=progress)
    state.inventory_requests += inventory.requests
    services, services_error = _services_by_number(provider)
    if services_error:
        state.registration_errors.append(services_error)
    total = max(len(run.numbers), 1)
    for index, number in enumerate(run.numbers, start=1):
        owned = inventory.find(number)
        if owned is None:
            recent = number.purchased_at is not None and number.purchased_at >= started
            if number.status in PhoneNumber.BILLED_STATUSES and not recent:
                state.newly_missing.append(number)
            state.entries.append(_entry(number, "missing"))
            continue
        entry = _entry(number, "reappeared" if number.status == PhoneNumber.Status.MISSING else checks.OK)
        entry["sid"] = owned.sid
        hooks = webhooks_for(number)
        entry["trunk"] = {"expected": _expected_trunk(number) or None, "actual": owned.trunk_sid or None}
        entry.update(checks.webhook_checks(owned, hooks, services.get(owned.e164), _expected_trunk(number)))
        entry["smsRegistration"] = _registration(number, owned, services, services_error)
        if number.status != PhoneNumber.Status.MISSING:
            entry["result"] = checks.outcome({name: entry[name] for name in checks.WEBHOOKS})
            if repair and entry["result"] == "drift":
                _repair(provider, number, hooks, entry, services, state)
        state.entries.append(entry)
        if progress and index % 500 == 0:
            progress(LISTING_SHARE + (100 - LISTING_SHARE) * index // total - 1)
    if inventory.complete:
        state.importable.extend(_importable(run.connection, inventory))


def _importable(connection: ProviderConnection, inventory: Inventory) -> list[dict]:
    """Numbers of the account that no org here holds (live or missing) through that account."""
    held = PhoneNumber.objects.filter(connection__type=connection.type, connection__account_id=connection.account_id,
                                      status__in=(*PhoneNumber.LIVE_STATUSES, PhoneNumber.Status.MISSING))
    held_sids, held_e164s = set(), set()
    for sid, e164 in held.values_list("provider_sid", "e164"):
        held_sids.add(sid)
        held_e164s.add(e164)
    return [{"phoneNumber": owned.e164, "sid": owned.sid, "friendlyName": owned.friendly_name,
             "capabilities": owned.capabilities.as_dict(), "connectionId": connection.public_id}
            for owned in sorted(inventory.by_sid.values(), key=lambda o: o.e164)
            if owned.sid not in held_sids and owned.e164 not in held_e164s]


def _flag_missing(numbers: list[PhoneNumber], entries: list[dict], now) -> None:
    """Only numbers still billed are flagged: a release or another run may have moved them on."""
    ids = [number.pk for number in numbers]
    PhoneNumber.objects.filter(pk__in=ids, status__in=PhoneNumber.BILLED_STATUSES).update(
        status=PhoneNumber.Status.MISSING, missing_since=now, updated_at=now)
    flagged = dict(PhoneNumber.objects.filter(pk__in=ids, status=PhoneNumber.Status.MISSING,
                                              missing_since=now).values_list("public_id", "missing_since"))
    for entry in entries:
        if entry["phoneId"] in flagged:
            entry.update(status=PhoneNumber.Status.MISSING, missingSince=now.isoformat(), newlyMissing=True)


def _summary(state: RunState, *, repair: bool) -> dict:
    results = Counter(entry["result"] for entry in state.entries)
    reasons = {name: dict(Counter(e[name]["status"] for e in state.entries if e[name])) for name in checks.WEBHOOKS}
    registrations = [e["smsRegistration"] for e in state.entries if e["smsRegistration"]]
    return {
        "checked": len(state.entries), "ok": results[checks.OK], "drifted": results["drift"],
        "overridden": results["overridden"], "missing": results["missing"],
        "newlyMissing": sum(1 for e in state.entries if e.get("newlyMissing")), "reappeared": results["reappeared"],
        "importable": len(state.importable), "repair": repair, "repaired": len(state.repaired),
        "repairFailed": sum(1 for e in state.entries if e["repairError"]), "reasons": reasons,
        "messagingService": dict(Counter(r["messagingService"]["status"] for r in registrations)),
        "a2p": dict(Counter(r["a2p"]["status"] for r in registrations)),
        "inventoryRequests": state.inventory_requests, "registrationErrors": state.registration_errors,
    }


def verify_run(*, org: Org, numbers: list[PhoneNumber] | None = None, repair: bool = False, job: Job | None = None,
               actor=None, progress: Progress | None = None) -> VerifyReport:
    """Verify the org's numbers (or just `numbers`, all of this org) and store the report.

    Raises ProviderError when an inventory cannot be read: then nothing is flagged, since a
    partial listing would make present numbers look gone.
    """
    if numbers is not None:
        numbers = [n for n in numbers if n.org_id == org.pk and n.status in CHECKED]
    runs = _accounts(org, numbers)
    state = RunState()
    targeted = numbers is not None and len(numbers) <= TARGETED_MAX
    for run in runs:
        _check_account(run, targeted=targeted, repair=repair, state=state, progress=progress)
    now = timezone.now()
    with transaction.atomic():
        _flag_missing(state.newly_missing, state.entries, now)
        summary = _summary(state, repair=repair)
        report = VerifyReport.objects.create(
            org=org, job=job, repaired=repair, summary=summary,
            report={"numbers": state.entries, "importable": state.importable, "checkedAt": now.isoformat(),
                    "scope": "all" if numbers is None else "selected"})
        if state.repaired:
            audit_record(actor=actor, org=org, action="verify.repair", target=org,
                         before={"numbers": [r["before"] | {"phoneId": r["phoneId"]} for r in state.repaired]},
                         after={"numbers": [r["after"] | {"phoneId": r["phoneId"]} for r in state.repaired]},
                         note=f"Re-pointed the webhooks of {len(state.repaired)} number(s)")
        if state.newly_missing and summary["newlyMissing"]:
            audit_record(actor=actor, org=org, action="verify.flag_missing", target=org,
                         after={"missing": [e["phoneNumber"] for e in state.entries if e.get("newlyMissing")]},
                         note="Gone at the provider: flagged missing, no longer billed")
    return report


# ---------------------------------------------------------------- as a job (API, beat)

def verify_job_start(*, org: Org, user=None, repair: bool = False, kind: str = Job.Kind.VERIFY) -> Job:
    """Create the job and run it after commit, so a rolled-back request starts nothing."""

    connection_default(org=org)  # no connection: say so now (400), not in a failed job later
    with transaction.atomic():
        job = Job.objects.create(org=org, kind=kind, created_by=user, params={"repair": repair})
        job_enqueue(job, verify_numbers)
    return job


def _job_progress(job: Job) -> Progress:
    def update(percent: int) -> None:
        Job.objects.filter(pk=job.pk).update(progress=max(0, min(percent, 99)))
    return update


def verify_job_run(*, job_id: int) -> None:
    job = job_claim(job_id)
    if job is None:
        return
    # Before the inventory: an adopted number is then checked as active, not listed as importable.
    settled = purchases_settle(org=job.org) if job.kind == Job.Kind.RECONCILE else {}
    try:
        report = verify_run(org=job.org, repair=bool(job.params.get("repair")), job=job, actor=job.created_by,
                            progress=_job_progress(job))
    except ProviderError as exc:
        if exc.permanent:
            job_finish(job, succeeded=False, error=error_dict(exc))
            return
        job_requeue(job, error=error_dict(exc))
        raise RetryLater(exc) from exc
    except ProviderNotConfigured as exc:
        job_finish(job, succeeded=False, error=error_dict(exc))
        return
    result = {"reportId": report.pk, "summary": report.summary}
    if job.kind == Job.Kind.RECONCILE:
        result["settled"] = {outcome: len(numbers) for outcome, numbers in settled.items()}
    job_finish(job, succeeded=True, result=result)


def verify_gave_up(*, job_id: int, error: ProviderError) -> None:
    job = Job.objects.get(pk=job_id)
    if job.status not in Job.FINISHED_STATUSES:
        job_finish(job, succeeded=False, error=error_dict(error))


def reconcile_start_all() -> list[Job]:
    """A reconcile job for every org with an active connection, unless one is already under way."""
    busy = Job.objects.filter(kind__in=(Job.Kind.VERIFY, Job.Kind.RECONCILE),
                              status__in=(Job.Status.QUEUED, Job.Status.RUNNING)).values("org_id")
    orgs = Org.objects.filter(connections__is_active=True).exclude(pk__in=busy).distinct()
    return [verify_job_start(org=org, kind=Job.Kind.RECONCILE) for org in orgs]
