import pytest

from orgs.models import Org
from phones.models import Job

pytestmark = pytest.mark.django_db


def test_public_ids_are_made_on_insert_for_save_and_bulk_create_alike():
    org = Org.objects.create(slug="o", name="o")
    saved = Job.objects.create(org=org, kind="verify")
    bulk = Job.objects.bulk_create([Job(org=org, kind="verify"), Job(org=org, kind="verify")])
    ids = [saved.public_id, *(job.public_id for job in bulk)]
    assert all(public_id.startswith("job_") and len(public_id) == 24 for public_id in ids)
    assert len(set(ids)) == 3
    assert set(Job.objects.values_list("public_id", flat=True)) == set(ids)


def test_a_given_public_id_is_kept():
    org = Org.objects.create(slug="o", name="o")
    assert Job.objects.create(org=org, kind="verify", public_id="job_given").public_id == "job_given"
