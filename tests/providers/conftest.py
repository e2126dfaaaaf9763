import pytest

from sandbox.services import sandbox_account_create
from tests.sandbox.helpers import sandbox_provider


@pytest.fixture
def account(db):
    return sandbox_account_create(friendly_name="Alice sandbox")


@pytest.fixture
def other_account(db):
    return sandbox_account_create(friendly_name="Charlie sandbox")


@pytest.fixture
def provider(account):
    return sandbox_provider(account)
