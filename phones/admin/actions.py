"""The phone number admin's actions: release, reassign, verify, set as system phone; and the jobs
admin's: settle purchases whose outcome is unknown.

Each calls the same service the API calls and records what it did with audit_record. Release
and reassign go through an intermediate page (Django admin's action pattern: the page posts the
action and the selected ids back, with `confirm`), verify answers with the report itself.
"""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from rest_framework.exceptions import ValidationError

from billing.services import release_refund_preview
from core.display import money
from core.errors import DomainError
from orgs.audit import audit_record
from orgs.models import Membership, Org
from phones.models import Agent, Job, PhoneNumber, Trunk
from phones.numbers.provisioning import ADOPTED, FAILED, UNKNOWN, purchase_settle
from phones.numbers.reassign import orgs_for_move, phone_number_move_to_org, phone_number_reassign
from phones.numbers.services import phone_number_release, release_refusal, system_phone_set
from phones.verify.services import verify_run
from providers.base import ProviderError


def _refusal(number: PhoneNumber) -> str:
    refusal = release_refusal(number)
    return refusal.message if refusal else ""


def _page(modeladmin: admin.ModelAdmin, request: HttpRequest, template: str, title: str, **context) -> TemplateResponse:
    return TemplateResponse(request, f"admin/phones/phonenumber/{template}", {
        **modeladmin.admin_site.each_context(request), "opts": modeladmin.model._meta, "title": title,
        "action_name": request.POST.get("action"), "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
        **context})


def release(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[PhoneNumber]) -> HttpResponse | None:
    numbers = list(queryset.select_related("org", "connection").order_by("org__slug", "e164"))
    rows = []
    for n in numbers:
        refusal = _refusal(n)
        refund = "" if refusal else money(release_refund_preview(phone_number=n), n.currency)
        rows.append({"number": n, "refusal": refusal, "refund": refund})
    if not request.POST.get("confirm"):
        return _page(modeladmin, request, "release_confirm.html", "Release phone numbers", rows=rows,
                     releasable=sum(1 for r in rows if not r["refusal"]))
    released = 0
    for row in rows:
        number = row["number"]
        if row["refusal"]:
            modeladmin.message_user(request, f"{number.e164} was not released: {row['refusal']}", messages.WARNING)
            continue
        try:
            job = phone_number_release(number=number, user=request.user)
        except DomainError as exc:
            modeladmin.message_user(request, f"{number.e164} was not released: {exc.message}", messages.ERROR)
            continue
        audit_record(actor=request.user, org=number.org, action="phone.release", target=number,
                     before={"status": number.status}, after={"status": "releasing", "job": job.public_id},
                     note=f"Refund preview {row['refund']}")
        released += 1
    if released:
        modeladmin.message_user(request, f"Releasing {released} number(s); each refund is credited when the "
                                         f"provider confirms (see Jobs).", messages.SUCCESS)
    return None


class ReassignForm(forms.Form):
    TARGETS = [("org", "Another org (same provider account)"), ("user", "A member of the org (calls ring them)"),
               ("agent", "An agent"), ("trunk", "A SIP trunk (assigned at the provider)"),
               ("no_trunk", "Off its SIP trunk (calls come to our webhooks again)")]

    target = forms.ChoiceField(choices=TARGETS, widget=forms.RadioSelect, initial="org")
    org = forms.ModelChoiceField(queryset=Org.objects.none(), required=False,
                                 help_text="Only orgs connected to the number's provider account are listed.")
    user = forms.ChoiceField(required=False, help_text="Members of the number's org.")
    agent = forms.ModelChoiceField(queryset=Agent.objects.none(), required=False, label="Agent",
                                   help_text="The org's AI agents: it answers the numbers' calls and texts.")
    trunk = forms.ModelChoiceField(queryset=Trunk.objects.none(), required=False, label="SIP trunk",
                                   help_text="The org's trunks, as last read from the provider.")

    def __init__(self, *args, org: Org, numbers: list[PhoneNumber], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Which orgs may take a number depends only on its provider account: ask once per account.
        by_account = {(n.connection.type, n.connection.account_id): n for n in numbers}
        allowed = None
        for number in by_account.values():
            ids = set(orgs_for_move(number).values_list("pk", flat=True))
            allowed = ids if allowed is None else allowed & ids
        self.fields["org"].queryset = Org.objects.filter(pk__in=allowed or []).order_by("slug")
        self.fields["trunk"].queryset = Trunk.objects.filter(org=org).order_by("friendly_name", "id")
        self.fields["agent"].queryset = Agent.objects.filter(org=org).order_by("name")
        members = Membership.objects.filter(org=org).select_related("user").order_by("user__username")
        self.fields["user"].choices = [("", "—")] + [(m.user.username, f"{m.user.username} ({m.role})")
                                                     for m in members]

    def clean(self):
        data = super().clean()
        needed = {"org": "org", "user": "user", "agent": "agent", "trunk": "trunk"}.get(data.get("target"))
        if needed and not data.get(needed):
            self.add_error(needed, "Say where the number goes.")
        return data


def _reassign_one(request: HttpRequest, number: PhoneNumber, data: dict) -> PhoneNumber:
    target = data["target"]
    if target == "org":
        return phone_number_move_to_org(number=number, org=data["org"], actor=request.user)
    if target == "user":
        return phone_number_reassign(number=number, actor=request.user, username=data["user"])
    if target == "agent":
        return phone_number_reassign(number=number, actor=request.user, agent_id=data["agent"].public_id)
    if target == "no_trunk":
        return phone_number_reassign(number=number, actor=request.user, trunk_id="")
    return phone_number_reassign(number=number, actor=request.user, trunk_id=data["trunk"].public_id)


def reassign(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[PhoneNumber]
             ) -> HttpResponse | None:
    numbers = list(queryset.select_related("org", "connection").order_by("e164"))
    orgs = {n.org_id for n in numbers}
    if len(orgs) != 1:
        modeladmin.message_user(request, "Reassign numbers of one org at a time.", messages.ERROR)
        return None
    org = numbers[0].org
    form = ReassignForm(request.POST if request.POST.get("confirm") else None, org=org, numbers=numbers)
    if not form.is_bound or not form.is_valid():
        return _page(modeladmin, request, "reassign.html", "Reassign phone numbers", form=form, numbers=numbers,
                     org=org)
    done = []
    for number in numbers:
        try:
            done.append(_reassign_one(request, number, form.cleaned_data).e164)
        except (DomainError, ProviderError) as exc:
            modeladmin.message_user(request, f"{number.e164} was not reassigned: {exc.message}", messages.ERROR)
        except ValidationError as exc:  # the routing document's checks (e.g. no such member)
            problems = "; ".join(f"{path}: {' '.join(map(str, errs))}" for path, errs in exc.detail.items())
            modeladmin.message_user(request, f"{number.e164} was not reassigned: {problems}", messages.ERROR)
    if done:
        modeladmin.message_user(request, f"Reassigned {', '.join(done)}.", messages.SUCCESS)
    return None


def verify(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[PhoneNumber]) -> HttpResponse:
    repair = bool(request.POST.get("repair"))
    by_org: dict[int, list[PhoneNumber]] = {}
    for number in queryset.select_related("org", "connection").order_by("org__slug", "e164"):
        by_org.setdefault(number.org_id, []).append(number)
    reports, failures = [], []
    for numbers in by_org.values():
        org = numbers[0].org
        try:
            report = verify_run(org=org, numbers=numbers, repair=repair, actor=request.user)
        except (DomainError, ProviderError) as exc:
            failures.append(f"{org.slug}: {exc.message}")
            continue
        audit_record(actor=request.user, org=org, action="phone.verify", target=org,
                     after=report.summary | {"reportId": report.pk}, note="repair" if repair else "")
        reports.append(report)
    return _page(modeladmin, request, "verify_report.html", "Verify report", reports=reports, failures=failures,
                 repair=repair)


def set_system_phone(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[PhoneNumber]) -> None:
    numbers = list(queryset.select_related("org")[:2])
    if len(numbers) != 1:
        modeladmin.message_user(request, "Choose exactly one number to be its org's system phone.", messages.ERROR)
        return
    number = numbers[0]
    previous = PhoneNumber.objects.filter(org=number.org, is_system=True).first()
    try:
        system_phone_set(org=number.org, number=number)
    except DomainError as exc:
        modeladmin.message_user(request, f"{number.e164} is not the system phone: {exc.message}", messages.ERROR)
        return
    audit_record(actor=request.user, org=number.org, action="phone.set_system", target=number,
                 before={"systemPhone": previous.public_id if previous else None},
                 after={"systemPhone": number.public_id})
    modeladmin.message_user(request, f"{number.e164} is now the system phone of {number.org.slug}.", messages.SUCCESS)


def settle(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Job]) -> None:
    """Settle the selected purchase jobs' numbers now, with the service reconcile uses."""
    jobs = list(queryset.filter(kind=Job.Kind.PURCHASE).select_related("phone_number"))
    outcomes: dict[str, list[str]] = {}
    for job in jobs:
        number = job.phone_number
        if number is None:
            continue
        outcomes.setdefault(purchase_settle(number=number, actor=request.user, via="staff"), []).append(number.e164)
    labels = {ADOPTED: "Adopted (active; the hold is the charge)", FAILED: "Not bought (failed; the hold is reversed)"}
    for outcome, label in labels.items():
        if outcomes.get(outcome):
            modeladmin.message_user(request, f"{label}: {', '.join(outcomes[outcome])}", messages.SUCCESS)
    if outcomes.get(UNKNOWN):
        modeladmin.message_user(request, f"The provider is still failing; left pending: "
                                         f"{', '.join(outcomes[UNKNOWN])}", messages.WARNING)
    rest = [e164 for outcome, numbers in outcomes.items() if outcome not in (*labels, UNKNOWN) for e164 in numbers]
    if rest or not outcomes:
        modeladmin.message_user(request, "Nothing to settle" + (f" for {', '.join(rest)} (already settled or "
                                                                "still being bought)" if rest else "") + ".",
                                messages.INFO)
