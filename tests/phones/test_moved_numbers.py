"""A number staff moved to another org mid-period: the refund goes back to whoever paid,
and the new org does not read the old org's messages."""
import pytest
from django.utils import timezone

from billing.models import LedgerEntry
from billing.services import balance_get
from orgs.models import ProviderConnection
from phones.models import Message
from phones.numbers.reassign import phone_number_move_to_org
from tests.conftest import api_client, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def moved(active_number, other_org, charlie):
    """Alice's number, with a message, moved to Charlie's org on the same provider account."""
    Message.objects.create(org=active_number.org, phone_number=active_number, direction="inbound",
                           from_number="+15550001111", to_number=active_number.e164, body="for alice only",
                           created_at=timezone.now())
    connection = ProviderConnection(org=other_org, type=active_number.connection.type, name="Shared",
                                    account_id=active_number.connection.account_id)
    connection.credentials = active_number.connection.credentials
    connection.save()
    staff = make_user("staff", is_staff=True)
    return phone_number_move_to_org(number=active_number, org=other_org, actor=staff)


def test_the_refund_goes_to_the_org_that_paid_for_the_period(moved, org, other_org, charlie, on_commit):
    response = on_commit(lambda: api_client(charlie, other_org).delete(f"/phone/numbers/{moved.public_id}"))
    assert response.status_code == 202
    refund = LedgerEntry.objects.get(kind="refund")
    assert refund.org == org
    assert balance_get(org=org).balance == 10_000 - 115 + refund.amount
    assert balance_get(org=other_org).balance == 0


def test_the_new_org_does_not_see_the_old_orgs_messages(moved, other_org, charlie):
    messages = api_client(charlie, other_org).get(f"/phone/numbers/{moved.public_id}/messages").json()
    assert messages["data"] == []
