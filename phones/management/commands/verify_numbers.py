"""Verify numbers against their provider from the shell, with a progress bar and the report.

    python manage.py verify_numbers [--org SLUG] [--repair]

Without --org every org with an active connection is checked. Reports are stored as from the
API; --repair re-points drifted webhooks and nothing else.
"""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orgs.models import Org
from phones.models import VerifyReport
from phones.verify import checks
from phones.verify.services import verify_run
from providers.base import ProviderError

BAR_WIDTH = 30
SHOWN = 50  # problem lines printed per org; the stored report has them all


class Command(BaseCommand):
    help = "Verify phone numbers against the provider: webhooks, SMS registration, missing and importable numbers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", help="Slug of the org to verify (default: every connected org).")
        parser.add_argument("--repair", action="store_true", help="Re-point drifted webhooks.")

    def handle(self, *args, org: str | None = None, repair: bool = False, **options) -> None:
        orgs = Org.objects.filter(connections__is_active=True).distinct().order_by("slug")
        if org:
            orgs = orgs.filter(slug=org)
            if not orgs.exists():
                raise CommandError(f"No org {org!r} with an active provider connection")
        failed = 0
        for each in orgs:
            self.stdout.write(f"{each.slug}:")
            try:
                report = verify_run(org=each, repair=repair, progress=self._bar)
            except ProviderError as exc:
                failed += 1
                self.stdout.write("")
                self.stderr.write(f"  could not read the provider's inventory: {exc.message}")
                continue
            self._bar(100)
            self.stdout.write("")
            self._print(report)
        if failed:
            raise CommandError(f"{failed} org(s) could not be verified")

    def _bar(self, percent: int) -> None:
        done = BAR_WIDTH * percent // 100
        self.stdout.write(f"\r  [{'#' * done}{'.' * (BAR_WIDTH - done)}] {percent:3d}%", ending="")
        self.stdout.flush()

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
