"""Verify numbers against their provider from the shell, with a progress bar and the report.

    python manage.py verify_numbers [--org SLUG] [--repair]

Without --org every org with an active connection is checked; the others are named, with why they
were skipped. Reports are stored as from the API; --repair re-points drifted webhooks and nothing else.

Each org shows its phases, one line each: listing the provider's numbers (the inventory, page by
page), then checking ours against it; an org on several provider accounts lists each in turn.
"""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orgs.models import Org
from phones.models import PhoneNumber, VerifyReport
from phones.verify import checks
from phones.verify.services import CHECKED, LISTING_SHARE, verify_run
from providers.base import ProviderError

BAR_WIDTH = 30
SHOWN = 50  # problem lines printed per org; the stored report has them all


class PhaseBar:
    """verify_run's progress (0..LISTING_SHARE while it lists an account's numbers at the provider,
    above it while it checks ours) shown as labelled phases, each on its own line, each 0 → 100%:
    never 80% → 0% → 100%. A drop starts the listing of the org's next account."""

    def __init__(self, command: BaseCommand, numbers: int) -> None:
        self.command, self.numbers = command, numbers
        self.phase, self.last, self.accounts = "", -1, 0

    def __call__(self, value: int) -> None:
        if value < self.last or not self.phase:  # the (next) account's listing begins
            self._close()
            self.accounts += 1
            self.phase = "listing"
        elif self.phase == "listing" and value > LISTING_SHARE:
            self._close()
            self.phase = "checking"
        self.last = value
        if self.phase == "listing":
            self._draw(100 * value // LISTING_SHARE)
        else:
            self._draw(100 * (value - LISTING_SHARE) // (100 - LISTING_SHARE))

    def done(self) -> None:
        if self.phase == "listing":  # checking reports every 500 numbers: none for a small org
            self._close()
            self.phase = "checking"
        if self.phase:
            self._close()

    def _label(self) -> str:
        if self.phase == "listing":
            which = f" (account {self.accounts})" if self.accounts > 1 else ""
            return f"listing the provider's numbers{which}"
        return f"checking {self.numbers} number(s) against it"

    def _draw(self, percent: int) -> None:
        percent = max(0, min(percent, 100))
        done = BAR_WIDTH * percent // 100
        self.command.stdout.write(f"\r  {self._label():<46} [{'#' * done}{'.' * (BAR_WIDTH - done)}] {percent:3d}%",
                                  ending="")
        self.command.stdout.flush()

    def _close(self) -> None:
        """The current phase is over: shown at 100%, and the line ended."""
        if self.phase:
            self._draw(100)
            self.command.stdout.write("")


class Command(BaseCommand):
    help = "Verify phone numbers against the provider: webhooks, SMS registration, missing and importable numbers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", help="Slug of the org to verify (default: every connected org).")
        parser.add_argument("--repair", action="store_true", help="Re-point drifted webhooks.")

    def handle(self, *args, org: str | None = None, repair: bool = False, **options) -> None:
        orgs = Org.objects.filter(connections__is_active=True).distinct().order_by("slug")
        if org:
            if not Org.objects.filter(slug=org).exists():
                raise CommandError(f"No org {org!r}")
            orgs = orgs.filter(slug=org)
            if not orgs.exists():
                raise CommandError(f"Org {org!r} skipped: {skip_reason(org)}")
        failed = 0
        for each in orgs:
            numbers = PhoneNumber.objects.filter(org=each, status__in=CHECKED, connection__is_active=True).count()
            self.stdout.write(f"{each.slug}:")
            bar = PhaseBar(self, numbers)
            try:
                report = verify_run(org=each, repair=repair, progress=bar)
            except ProviderError as exc:
                failed += 1
                if bar.phase:
                    self.stdout.write("")
                self.stderr.write(f"  could not read the provider's inventory: {exc.message}")
                continue
            bar.done()
            self._print(report)
        if not org:
            self._skipped()
        if failed:
            raise CommandError(f"{failed} org(s) could not be verified")

    def _skipped(self) -> None:
        skipped = Org.objects.exclude(connections__is_active=True).order_by("slug")
        for each in skipped:
            self.stdout.write(f"{each.slug}: skipped, {skip_reason(each.slug)}")

    def _print(self, report: VerifyReport) -> None:
        s = report.summary
        self.stdout.write(
            f"  checked {s['checked']}: ok {s['ok']}, drifted {s['drifted']}, overridden {s['overridden']}, "
            f"missing {s['missing']} ({s['newlyMissing']} new), reappeared {s['reappeared']}, "
            f"importable {s['importable']}, repaired {s['repaired']}"
            + (f", repair failed {s['repairFailed']}" if s["repairFailed"] else "")
            + f" — {s['inventoryRequests']} inventory request(s), report #{report.pk}")
        if s["a2p"]:
            self.stdout.write("  A2P 10DLC: " + ", ".join(f"{k} {v}" for k, v in sorted(s["a2p"].items())))
        problems = [e for e in report.report["numbers"] if e["result"] != checks.OK]
        for entry in problems[:SHOWN]:
            reasons = ", ".join(f"{name} {entry[name]['status']}" for name in checks.WEBHOOKS
                                if entry[name] and entry[name]["status"] != checks.OK)
            self.stdout.write(f"  {entry['phoneNumber']:<16} {entry['result']:<11} {reasons}")
        if len(problems) > SHOWN:
            self.stdout.write(f"  … and {len(problems) - SHOWN} more (GET /phone/verify/report)")
        for item in report.report["importable"][:SHOWN]:
            self.stdout.write(f"  {item['phoneNumber']:<16} importable  {item['sid']}")


def skip_reason(slug: str) -> str:
    """Why an org has nothing to verify against."""
    org = Org.objects.get(slug=slug)
    inactive = org.connections.filter(is_active=False).count()
    if inactive:
        return (f"its {inactive} provider connection(s) are inactive "
                "(nothing to list its numbers from; reactivate one, or connect a provider)")
    return "it has no provider connection (connect one: POST /integrations)"
