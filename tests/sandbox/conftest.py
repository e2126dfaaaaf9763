import pytest
from django.test import Client

from sandbox.services import sandbox_account_create
from tests.sandbox.helpers import ROOT, basic, sandbox_provider


@pytest.fixture
def account(db):
    return sandbox_account_create(friendly_name="Alice sandbox")


@pytest.fixture
def other_account(db):
    return sandbox_account_create(friendly_name="Charlie sandbox")


@pytest.fixture
def provider(account):
    return sandbox_provider(account)


@pytest.fixture
def api(account):
    """A plain HTTP client speaking to the emulator as the account."""
    class Api:
        def get(self, path, params=None, auth=None):
            return Client().get(f"{ROOT}/{account.sid}{path}", params or {},
                                **(auth or basic(account.sid, account.auth_token)))

        def post(self, path, data, auth=None):
            return Client().post(f"{ROOT}/{account.sid}{path}", data,
                                 **(auth or basic(account.sid, account.auth_token)))

        def delete(self, path):
            return Client().delete(f"{ROOT}/{account.sid}{path}", **basic(account.sid, account.auth_token))
    return Api()
