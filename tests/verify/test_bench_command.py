from __future__ import annotations

import re

import pytest
from django.core.management import call_command

from phones.models import PhoneNumber, VerifyReport
from sandbox.models import SandboxNumber

pytestmark = pytest.mark.django_db


def test_bench_verify_reads_the_inventory_in_pages_and_leaves_nothing_behind(capsys):
    call_command("bench_verify", "--numbers", "1500")
    out = capsys.readouterr().out
    assert re.search(r"verify: 1500 numbers in [\d.]+ s", out)
    assert "inventory requests: 2 " in out  # 1,500 at the provider (less 20 gone, plus 20 extra): two pages
    assert "missing 20, importable 20" in out and "url_mismatch" in out
    assert not PhoneNumber.objects.exists() and not SandboxNumber.objects.exists()
    assert not VerifyReport.objects.exists()
