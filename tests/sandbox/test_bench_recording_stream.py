from io import StringIO

import pytest
from django.core.management import call_command

from orgs.models import Org
from phones.models import Recording


@pytest.mark.django_db
def test_the_benchmark_prints_its_figures_and_leaves_nothing():
    out = StringIO()
    call_command("bench_recording_stream", "--seconds", "120", "--seeks", "3", stdout=out)
    text = out.getvalue()
    assert "WSGI: first byte" in text and "peak memory" in text and "ASGI: " in text
    assert "seek (64 KiB Range) over 3" in text
    assert not Org.objects.exists() and not Recording.objects.exists()
