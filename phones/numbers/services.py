"""Writes for phone numbers, on the request side: they validate, take the money, record,
and enqueue the provider work (phones.numbers.provisioning) after commit.

Nothing here calls a provider inside an open transaction: a provider call can take
seconds and cannot be rolled back. A broker that cannot take the task after the commit
does not fail the request: the job row is the durable queue, answered 202 `queued`, and
beat sends it again (phones.jobs.job_enqueue, jobs_requeue_stale).
"""
from __future__ import annotations

import phonenumbers
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import serializers

from billing.models import Price
from billing.periods import add_months
from billing.services import balance_get, locked_balance, number_month_key, purchase_hold, usage_record
from core.errors import Conflict, DomainError, InsufficientBalance, InvalidInput
from orgs.models import Org, ProviderConnection
from orgs.selectors import connection_default
from phones.jobs import job_enqueue
from phones.models import Agent, Job, PhoneNumber, PhoneRouting
from phones.numbers.selectors import offer_details
from phones.numbers.tasks import purchase_number, release_number
from phones.provider_webhooks import webhooks_for, webhooks_push
from phones.selectors import agent_in_org
from phones.trunks.services import phone_number_trunk_set, trunk_for_number
from providers.base import PhoneProvider, ProviderError, Regulatory, SearchCriteria
from providers.registry import provider_for

CONFIG_SECTIONS = ("voiceConfig", "smsConfig", "tracking")


def classify(e164: str) -> tuple[str, str]:
    """(country, number type) of an E.164 number, as our price table names them."""
    parsed = phonenumbers.parse(e164)
    country = (phonenumbers.region_code_for_number(parsed)
               or phonenumbers.region_code_for_country_code(parsed.country_code))
    kind = phonenumbers.number_type(parsed)
    if kind == phonenumbers.PhoneNumberType.TOLL_FREE:
        return country, "tollFree"
    if kind == phonenumbers.PhoneNumberType.MOBILE:
        return country, "mobile"
    return country, "local"


def _price(country: str, number_type: str, org: Org) -> Price:
    price = Price.objects.filter(country=country, number_type=number_type).first()
    if price is None:
        raise InvalidInput(f"{number_type} numbers in {country} are not sold here", code="no_price",
                           field="phoneNumber")
    if price.currency != org.currency:
        raise InvalidInput(f"{country} {number_type} numbers are priced in {price.currency}, "
                           f"but this org pays in {org.currency}", code="currency_mismatch", field="phoneNumber")
    return price


def regulatory_params(regulatory: Regulatory) -> dict[str, str]:
    """The documents a purchase job hands the provider (phones.numbers.provisioning), as job params."""
    return {key: value for key, value in (("addressSid", regulatory.address_sid),
                                          ("bundleSid", regulatory.bundle_sid)) if value}


def regulatory_check(*, provider: PhoneProvider, numbers: list[tuple[str, str, dict]],
                     regulatory: Regulatory) -> None:
    """Refuse, before any money moves, a purchase the provider would refuse for want of the end
    user's address. `numbers`: (E.164, country, what the search showed of it).

    - an addressSid or bundleSid for a provider that takes none: 400 `regulatory_unsupported`;
    - a number whose `addressRequirements` is not none, and no addressSid: 400 `address_required`;
    - an addressSid the provider account does not have: 400 `address_not_found`;
    - `local` with an address outside the number's country, `foreign` with one inside it: 400
      `address_not_local` / `address_not_foreign`.

    A number the search could not describe ({}) is left to the provider: if it refuses, the job
    fails and the hold is reversed. Bundles are checked by the provider only.
    """
    if regulatory and not provider.regulatory_documents:
        raise InvalidInput(f"{provider.name or 'This provider'} numbers are bought without an address or bundle",
                           code="regulatory_unsupported", field="addressSid" if regulatory.address_sid else "bundleSid")
    needs = [(e164, country, offer["addressRequirements"]) for e164, country, offer in numbers
             if offer.get("addressRequirements") not in (None, "", "none")]
    if needs and not regulatory.address_sid:
        e164, country, requirement = needs[0]
        where = {"any": "an address anywhere", "local": f"an address in {country}",
                 "foreign": f"an address outside {country}"}.get(requirement, "an address")
        raise InvalidInput(f"{e164} can only be bought with {where} (addressRequirements: {requirement}): "
                           "give the addressSid of the end user's address at the provider",
                           code="address_required", field="addressSid", phoneNumber=e164,
                           addressRequirements=requirement)
    if not regulatory.address_sid:
        return
    address_country = provider.address_country(regulatory.address_sid)
    if address_country is None:
        raise InvalidInput(f"The provider account has no address {regulatory.address_sid}",
                           code="address_not_found", field="addressSid")
    for e164, country, requirement in needs:
        if requirement == "local" and address_country != country:
            raise InvalidInput(f"{e164} needs an address in {country}; {regulatory.address_sid} is in "
                               f"{address_country}", code="address_not_local", field="addressSid",
                               phoneNumber=e164, addressRequirements=requirement)
        if requirement == "foreign" and address_country == country:
            raise InvalidInput(f"{e164} needs an address outside {country}; {regulatory.address_sid} is in it",
                               code="address_not_foreign", field="addressSid", phoneNumber=e164,
                               addressRequirements=requirement)


def number_unavailable(e164: str) -> Conflict:
    """What a tenant hears about a number another org holds: exactly what it hears about any number
    it cannot have, never that another customer has it."""
    return Conflict(f"{e164} is not available", code="number_unavailable", field="phoneNumber")


def _ensure_free(e164: str, org: Org) -> None:
    holder = PhoneNumber.objects.filter(e164=e164, status__in=PhoneNumber.LIVE_STATUSES).first()
    if holder is None:
        return
    if holder.org_id == org.id:
        raise Conflict(f"{e164} is already in this org", code="number_exists", phoneId=holder.public_id)
    raise number_unavailable(e164)


def _save_new(number: PhoneNumber) -> None:
    """Insert; the database decides races (one live row per E.164, one system phone per org). Losing
    the number to another org at the same moment answers like _ensure_free."""
    try:
        with transaction.atomic():
            number.save()
    except IntegrityError as exc:
        _ensure_free(number.e164, number.org)
        raise Conflict("The org's system phone changed at the same time; try again", code="conflict") from exc


def merge_configuration(current: dict, update: dict) -> dict:
    """Partial update: each section given is merged key by key over what is stored."""
    merged = {section: dict(current.get(section) or {}) for section in CONFIG_SECTIONS if current.get(section)}
    for section, values in update.items():
        merged[section] = {**merged.get(section, {}), **values}
    return merged


def _has_system_phone(org: Org) -> bool:
    return PhoneNumber.objects.filter(org=org, is_system=True).exists()


def phone_number_purchase(*, org: Org, user, e164: str, friendly_name: str = "", purpose: str = "",
                          configuration: dict | None = None, routing_mode: str = PhoneNumber.RoutingMode.VOICE,
                          trunk_id: str = "", agent: Agent | None = None, set_as_system: bool = False,
                          regulatory: Regulatory | None = None) -> Job:
    """Hold setup + first month and record the number as pending, in one transaction; the
    purchase job starts only if that commits. Insufficient balance writes nothing."""
    [job] = phone_numbers_purchase(org=org, user=user, e164s=[e164], friendly_name=friendly_name, purpose=purpose,
                                   configuration=configuration, routing_mode=routing_mode, trunk_id=trunk_id,
                                   agent=agent, set_as_system=set_as_system, regulatory=regulatory)
    return job


def phone_numbers_purchase(*, org: Org, user, e164s: list[str], friendly_name: str = "", purpose: str = "",
                           configuration: dict | None = None, routing_mode: str = PhoneNumber.RoutingMode.VOICE,
                           trunk_id: str = "", agent: Agent | None = None, set_as_system: bool = False,
                           regulatory: Regulatory | None = None) -> list[Job]:
    """Buy several numbers at once: the balance must cover all of them (setup + first month each),
    and all or none are recorded and held, in one transaction; then one purchase job per number,
    started only if that commits. Each keeps what the search showed of it (friendly name when none
    is given, locality, region). `set_as_system` applies to the first. `trunk_id` (one of the org's
    trunks on the same provider account, else a 400 before anything is held): each number is assigned
    to it at the provider once bought. `agent` (one of the org's) answers their calls and texts. The
    end user's address and bundle (`regulatory`) are checked first (regulatory_check) and go to the
    provider with each."""
    if agent is not None and agent.org_id != org.pk:
        raise InvalidInput("No such agent in this org", code="unknown_agent", field="agentId")
    if len(set(e164s)) != len(e164s):
        raise InvalidInput("A number is named more than once", field="numbers")
    connection = connection_default(org=org)
    trunk = trunk_for_number(org=org, trunk_id=trunk_id, connection=connection) if trunk_id else None
    priced = []
    for e164 in e164s:
        country, number_type = classify(e164)
        priced.append((e164, country, number_type, _price(country, number_type, org)))
    total = sum(price.setup_fee + price.monthly_fee for *_, price in priced)
    # Provider calls: before the transaction.
    offers = {e164: offer_details(org=org, e164=e164, number_type=number_type) for e164, _, number_type, _ in priced}
    regulatory = regulatory or Regulatory()
    regulatory_check(provider=provider_for(connection), regulatory=regulatory,
                     numbers=[(e164, country, offers[e164]) for e164, country, *_ in priced])
    jobs: list[Job] = []
    with transaction.atomic():
        available = locked_balance(org=org).balance
        if available < total:
            raise InsufficientBalance(
                f"Insufficient balance: {total} {org.currency} needed for {len(e164s)} number(s), "
                f"{available} available", needed=total, available=available, currency=org.currency)
        for index, (e164, country, number_type, price) in enumerate(priced):
            _ensure_free(e164, org)
            offer = offers[e164]
            number = PhoneNumber(
                org=org, connection=connection, e164=e164,
                friendly_name=(friendly_name or offer.get("friendlyName") or "")[:64], purpose=purpose,
                locality=(offer.get("locality") or "")[:100], region=(offer.get("region") or "")[:100],
                country=country, number_type=number_type, status=PhoneNumber.Status.PENDING,
                routing_mode=routing_mode, configuration=merge_configuration({}, configuration or {}),
                trunk=trunk, trunk_status=PhoneNumber.TrunkStatus.PENDING if trunk else "",
                agent=agent, setup_fee=price.setup_fee, monthly_fee=price.monthly_fee,
                currency=price.currency, created_by=user,
                is_system=set_as_system and index == 0 and not _has_system_phone(org),
            )
            _save_new(number)
            purchase_hold(phone_number=number, created_by=user)
            job = Job.objects.create(org=org, kind=Job.Kind.PURCHASE, phone_number=number, created_by=user,
                                     params={"phoneNumber": e164, **regulatory_params(regulatory)})
            job_enqueue(job, purchase_number)
            jobs.append(job)
    return jobs


def phone_number_import(*, org: Org, user, e164: str, friendly_name: str = "", purpose: str = "",
                        configuration: dict | None = None, connection: ProviderConnection | None = None
                        ) -> PhoneNumber:
    """Manage a number the connected account already owns: no setup fee, the first month is
    charged, and only its webhooks are changed at the provider. `connection`: one of the org's
    (default: its first)."""
    if connection is None:
        connection = connection_default(org=org)
    elif connection.org_id != org.id or not connection.is_active:
        raise InvalidInput("No such connection in this org", code="unknown_connection", field="connection")
    _ensure_free(e164, org)
    country, number_type = classify(e164)
    price = _price(country, number_type, org)
    available = balance_get(org=org).balance
    if available < price.monthly_fee:
        raise InsufficientBalance(f"Importing {e164} costs {price.monthly_fee} for the first month",
                                  needed=price.monthly_fee, available=available, currency=price.currency)
    provider = provider_for(connection)
    try:
        owned = provider.find_owned(e164)
    except ProviderError as exc:
        if exc.permanent and exc.status in (401, 403):
            raise InvalidInput(f"The provider rejected the connection's credentials: {exc.message}",
                               code="invalid_credentials", field="phoneNumber") from exc
        raise
    if owned is None:
        raise InvalidInput(f"{e164} is not owned by the connected provider account ({connection.account_id})",
                           code="number_not_owned", field="phoneNumber")
    today = timezone.localdate()
    number = PhoneNumber(
        org=org, connection=connection, e164=e164, provider_sid=owned.sid,
        friendly_name=friendly_name or owned.friendly_name[:64], purpose=purpose, country=country,
        number_type=number_type, capabilities=owned.capabilities.as_dict(), status=PhoneNumber.Status.ACTIVE,
        configuration=merge_configuration({}, configuration or {}), setup_fee=0, monthly_fee=price.monthly_fee,
        currency=price.currency, purchased_at=timezone.now(), next_billing_date=add_months(today, 1),
        created_by=user,
    )
    hooks = webhooks_for(number)
    try:
        provider.configure_webhooks(owned.sid, hooks, friendly_name=friendly_name or None)
    except ProviderError as exc:
        raise DomainError(f"Could not point {e164}'s webhooks at us: {exc.message}", code="webhook_setup_failed",
                          status_code=502, providerCode=exc.code) from exc
    number.webhooks = hooks.as_dict()
    with transaction.atomic():
        _save_new(number)
        # The first month is paid like a purchase with no setup fee, so a release refunds it the same way.
        purchase_hold(phone_number=number, created_by=user)
        usage_record(org=org, phone_number=number, kind="number_month", quantity=1, period=today,
                     key=number_month_key(number, today))
    return number


def _ensure_configurable(number: PhoneNumber) -> None:
    if number.status not in PhoneNumber.CONFIGURABLE_STATUSES:
        raise Conflict(f"A {number.status} number cannot be changed", code="number_not_active")


def phone_number_update(*, number: PhoneNumber, changes: dict) -> PhoneNumber:
    """Partial update. Everything is validated; then a new trunk (`trunkId`, null or "" for none) is
    assigned at the provider and recorded, then a new friendly name is pushed to the provider: if it
    refuses, nothing else is saved."""
    from phones.calls import documents as routing
    from phones.calls.routing import OrgDirectory, routing_update

    _ensure_configurable(number)
    if "assignments" in changes:
        try:
            routing.validate_assignments(changes["assignments"], directory=OrgDirectory(number.org))
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({"assignments": exc.detail}) from exc
    # null or "" detaches the number from its agent; another org's is a 400 before anything changes.
    agent = agent_in_org(org=number.org, public_id=changes["agentId"]) if changes.get("agentId") else None
    trunk_changed = "trunkId" in changes
    trunk = (trunk_for_number(org=number.org, trunk_id=changes["trunkId"], connection=number.connection)
             if changes.get("trunkId") else None)
    if trunk_changed:
        phone_number_trunk_set(number=number, trunk=trunk)
    name = changes.get("friendlyName")
    if name is not None and name != number.friendly_name and number.provider_sid:
        webhooks_push(number, friendly_name=name)
    if name is not None:
        number.friendly_name = name
    if "purpose" in changes:
        number.purpose = changes["purpose"] or ""
    if "agentId" in changes:  # null or "" detaches the number from its agent
        number.agent = agent
    if "configuration" in changes:
        number.configuration = merge_configuration(number.configuration, changes["configuration"])
    with transaction.atomic():
        number.save()
        if "assignments" in changes:
            routing_update(number=number, changes={"assignments": changes["assignments"]})
    return number


def phone_number_set_routing_mode(*, number: PhoneNumber, mode: str) -> PhoneNumber:
    """Switch voice/IVR: the provider's voice webhook moves first, then the record."""
    if number.status != PhoneNumber.Status.ACTIVE:
        raise Conflict(f"A {number.status} number cannot be re-routed", code="number_not_active")
    if mode == number.routing_mode:
        return number
    if mode == PhoneNumber.RoutingMode.IVR:
        routing = PhoneRouting.objects.filter(phone_number=number).first()
        if routing is None or not routing.ivr_flow:
            raise InvalidInput("Save an IVR flow (PUT .../routing with ivrFlow) before switching to ivr",
                               code="ivr_flow_missing", field="mode")
    number.routing_mode = mode
    webhooks_push(number)
    number.save(update_fields=["routing_mode", "webhooks", "updated_at"])
    return number


def release_refusal(number: PhoneNumber) -> Conflict | None:
    """Why the release service refuses this number, or None."""
    if number.status != PhoneNumber.Status.ACTIVE:
        return Conflict(f"Only active numbers can be released; this one is {number.status}",
                        code="number_not_active")
    if number.is_system:
        return Conflict("This is the org's system phone: make another number the system phone first",
                        code="system_phone")
    return None


def phone_number_release(*, number: PhoneNumber, user) -> Job:
    """Start releasing an active number. A second request while it is releasing gets the same job."""

    with transaction.atomic():
        number = PhoneNumber.objects.select_for_update().get(pk=number.pk)
        if number.status == PhoneNumber.Status.RELEASING:
            return Job.objects.filter(phone_number=number, kind=Job.Kind.RELEASE).latest("created_at")
        refusal = release_refusal(number)
        if refusal is not None:
            raise refusal
        number.status = PhoneNumber.Status.RELEASING
        number.save(update_fields=["status", "updated_at"])
        job = Job.objects.create(org=number.org, kind=Job.Kind.RELEASE, phone_number=number, created_by=user,
                                 params={"phoneNumber": number.e164})
        job_enqueue(job, release_number)
    return job


def system_phone_set(*, org: Org, number: PhoneNumber) -> PhoneNumber:
    if number.status != PhoneNumber.Status.ACTIVE:
        raise Conflict(f"Only an active number can be the system phone; this one is {number.status}",
                       code="number_not_active")
    with transaction.atomic():
        PhoneNumber.objects.filter(org=org, is_system=True).exclude(pk=number.pk).update(is_system=False)
        number.is_system = True
        number.save(update_fields=["is_system", "updated_at"])
    return number


def number_for_country(*, org: Org, country: str) -> str:
    """An available number in `country` that takes both calls and texts (what an agent answers),
    and that no org here holds; InvalidInput on `country` when the provider offers none."""
    provider = provider_for(connection_default(org=org))
    found = provider.search_available(SearchCriteria(country=country, voice_enabled=True, sms_enabled=True, limit=20))
    candidates = [n.e164 for n in found if n.capabilities.voice and n.capabilities.sms]
    held = set(PhoneNumber.objects.filter(e164__in=candidates, status__in=PhoneNumber.LIVE_STATUSES)
               .values_list("e164", flat=True))
    for e164 in candidates:
        if e164 not in held:
            return e164
    raise InvalidInput(f"No number that takes calls and texts is available in {country}", code="no_numbers_available",
                       field="country")


def phone_setup(*, org: Org, user, purchase_new: bool, country: str = "US", area_code: str | None = None,
                e164: str | None = None, friendly_name: str = "", purpose: str = "",
                set_as_system: bool = False) -> tuple[PhoneNumber, Job | None]:
    """Buy the first number available in an area code, or import one; optionally make it the
    system phone, only when the org has none (never overwrites)."""
    if purchase_new:
        provider = provider_for(connection_default(org=org))
        found = provider.search_available(SearchCriteria(country=country, area_code=area_code, limit=1))
        if not found:
            raise InvalidInput(f"No numbers are available in area code {area_code}", code="no_numbers_available",
                               field="areaCode")
        job = phone_number_purchase(org=org, user=user, e164=found[0].e164, friendly_name=friendly_name,
                                    purpose=purpose, set_as_system=set_as_system)
        job.phone_number.refresh_from_db()
        return job.phone_number, job
    number = phone_number_import(org=org, user=user, e164=e164, friendly_name=friendly_name, purpose=purpose)
    if set_as_system and not _has_system_phone(org):
        system_phone_set(org=org, number=number)
    return number, None
