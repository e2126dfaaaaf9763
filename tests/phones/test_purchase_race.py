"""Two orgs buying the same number at the same moment, on PostgreSQL (row locks and the
unique index decide; SQLite serialises writers, so it cannot show the race)."""
import threading

import pytest
from django.db import connections

from billing.models import LedgerEntry
from billing.services import balance_get, ledger_topup
from core.errors import Conflict
from orgs.models import Membership, Org
from orgs.services import connection_create
from phones.models import PhoneNumber
from phones.numbers.services import phone_number_purchase
from tests.conftest import make_user
from tests.phones.conftest import available

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded_prices")]


def test_two_orgs_buying_one_number_at_once_one_wins_and_the_other_pays_nothing():
    buyers = []
    for slug in ("first", "second"):
        org = Org.objects.create(slug=slug, name=slug)
        user = make_user(f"owner-{slug}")
        Membership.objects.create(user=user, org=org, role="owner")
        connection_create(org=org, type_="sandbox-provider", name="S", credentials={})
        ledger_topup(org=org, amount=1000, reason="t")
        buyers.append((org, user))
    e164 = available(Org.objects.get(slug="first").connections.get())
    barrier = threading.Barrier(len(buyers))
    outcomes: dict[str, str] = {}

    def buy(org, user):
        try:
            barrier.wait()
            phone_number_purchase(org=org, user=user, e164=e164)
            outcomes[org.slug] = "bought"
        except Conflict as exc:
            outcomes[org.slug] = exc.code
        finally:
            connections.close_all()

    threads = [threading.Thread(target=buy, args=buyer) for buyer in buyers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert list(outcomes.values()).count("bought") == 1
    assert set(outcomes.values()) - {"bought"} <= {"number_unavailable"}
    winner = next(slug for slug, outcome in outcomes.items() if outcome == "bought")
    loser = next(slug for slug in outcomes if slug != winner)
    assert PhoneNumber.objects.get(e164=e164).org.slug == winner
    assert balance_get(org=Org.objects.get(slug=loser)).balance == 1000
    assert not LedgerEntry.objects.filter(org__slug=loser).exclude(kind="topup").exists()
