"""The renewal benchmark runs, reports its figures, and leaves nothing behind."""
from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from billing.models import LedgerEntry, OrgBalance, UsageRecord
from orgs.models import Org
from phones.models import PhoneNumber

pytestmark = pytest.mark.django_db


def test_it_prints_its_figures_and_rolls_everything_back():
    out = io.StringIO()
    call_command("bench_renewal", orgs=4, numbers=40, compare_orgs=2, stdout=out)
    text = out.getvalue()
    main = re.search(r"renewed 40 numbers over 4 orgs in [\d.]+ s: (\d+) charged, (\d+) past_due, (\d+) SQL queries, "
                     r"balance == sum of entries: yes", text)
    assert main, text
    # The first org is funded for half its 10 numbers.
    assert (int(main[1]), int(main[2])) == (35, 5)
    small = re.search(r"2 orgs x 10 numbers/org = 20 numbers: (\d+) SQL queries", text)
    big = re.search(r"2 orgs x 100 numbers/org = 200 numbers: (\d+) SQL queries", text)
    assert small and big, text
    if connection.vendor == "postgresql":
        assert small[1] == big[1], text
    else:
        assert "SQLite splits bulk statements" in text
    assert "all benchmark data rolled back" in text
    for model in (Org, PhoneNumber, LedgerEntry, OrgBalance, UsageRecord):
        assert not model.objects.exists(), model


def test_it_refuses_nonsense_sizes():
    with pytest.raises(CommandError):
        call_command("bench_renewal", orgs=10, numbers=5, stdout=io.StringIO())
