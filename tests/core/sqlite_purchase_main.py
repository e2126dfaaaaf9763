"""Run by tests/core/test_sqlite_concurrency.py in its own process, on a file SQLite database
(DATABASE_URL): N threads buy numbers through the API at once, as `make run` serves them, and it
prints one JSON line: the statuses, the balance and the sum of the ledger."""
from __future__ import annotations

import json
import os
import sys
import threading

import django

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main(threads: int) -> dict:
    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections
    from django.db.models import Sum
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import RefreshToken

    from billing.models import LedgerEntry
    from billing.services import balance_get, ledger_topup
    from orgs.models import Membership, Org
    from orgs.services import connection_create
    from providers.base import SearchCriteria
    from providers.registry import provider_for

    if os.environ.get("RACE_MIGRATE", "1") == "1":  # else the file is a copy of a migrated test database
        call_command("migrate", verbosity=0, interactive=False)
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username="owner", password="x" * 12)
    org = Org.objects.create(slug="race", name="Race")
    Membership.objects.create(user=user, org=org, role=Membership.Role.OWNER)
    sandbox = connection_create(org=org, type_="sandbox-provider", name="Sandbox", credentials={})
    found = provider_for(sandbox).search_available(SearchCriteria(area_code="415", limit=threads))
    numbers = [n.e164 for n in found]
    # Funds for some of them (the rest: 402); two threads ask for the same number (one of them: 409).
    ledger_topup(org=org, amount=int(os.environ.get("RACE_FUNDS", "600")), reason="race")
    wanted = numbers[: threads - 1] + numbers[:1]
    token = str(RefreshToken.for_user(user).access_token)
    connections.close_all()

    barrier = threading.Barrier(threads)
    statuses: list[int] = []
    errors: list[str] = []

    def buy(e164: str) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ORGID=org.slug)
        try:
            barrier.wait()
            response = client.post("/phone/numbers", {"phoneNumber": e164}, format="json")
            statuses.append(response.status_code)
            if response.status_code >= 500 or response.status_code not in (202, 402, 409):
                errors.append(response.content.decode()[:300])
        except Exception as exc:  # noqa: BLE001 - reported, the test fails on it
            statuses.append(599)
            errors.append(repr(exc))
        finally:
            connections.close_all()

    workers = [threading.Thread(target=buy, args=(e164,)) for e164 in wanted]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    journal = connection.cursor().execute("PRAGMA journal_mode").fetchone()[0]
    return {"statuses": sorted(statuses), "errors": errors, "journal_mode": journal,
            "balance": balance_get(org=org).balance,
            "ledger": LedgerEntry.objects.filter(org=org).aggregate(total=Sum("amount"))["total"]}


if __name__ == "__main__":
    print("RESULT " + json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)))
