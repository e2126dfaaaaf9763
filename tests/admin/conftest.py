"""Admin tests: a staff superuser's session, numbers bought through the API on the sandbox."""
from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import make_user
from tests.phones.conftest import active_number, available, buy, funded, on_commit, sandbox  # noqa: F401

CHANGELIST = "/admin/phones/phonenumber/"


@pytest.fixture
def staff(db):
    return make_user("root", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def act(client: Client, action: str, numbers, **extra):
    """Post an admin action on the numbers list, as the action dropdown does."""
    data = {"action": action, "_selected_action": [n.pk for n in numbers], **extra}
    return client.post(CHANGELIST, data, follow=True)


@pytest.fixture
def number_factory():
    """A number row straight in the database (no provider): billing's factory, plus any field."""
    from tests.billing.conftest import make_number

    def make(org, **fields):
        base = {k: fields.pop(k) for k in ("status", "monthly_fee", "setup_fee", "next_billing_date", "currency")
                if k in fields}
        number = make_number(org, **base)
        if fields:
            for name, value in fields.items():
                setattr(number, name, value)
            number.save()
        return number

    return make
