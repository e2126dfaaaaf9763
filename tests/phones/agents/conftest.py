from __future__ import annotations

import pytest

from orgs.services import connection_create
from phones.models import Agent
from tests.phones.conftest import active_number, funded, on_commit, sandbox  # noqa: F401
from tests.webhooks.conftest import number, text, twilio  # noqa: F401  (a number on the sandbox, signed webhooks)
from tests.webhooks.test_plivo import plivo, plivo_number  # noqa: F401  (a Plivo number, signed webhooks)
from tests.webhooks.test_telnyx import telnyx, telnyx_number  # noqa: F401  (a Telnyx number, signed webhooks)


@pytest.fixture
def ai_connection(org):
    return connection_create(org=org, type_="sandbox-ai", name="Sandbox AI", credentials={})


@pytest.fixture
def agent(org, ai_connection) -> Agent:
    return Agent.objects.create(org=org, name="Front desk", instructions="Be brief.", greeting="Hello!",
                                connection=ai_connection, tools=["transfer", "hangup"],
                                transfer_targets={"sales": "+14155550100"})
