import dataclasses

import pytest

from tests.phones.conftest import available, buy, funded, on_commit, sandbox  # noqa: F401


@pytest.fixture
def twilio_is_the_sandbox(monkeypatch):
    """`twilio-provider` connections talk to the sandbox emulator in-process instead of api.twilio.com
    (the documents' Twilio examples, with a sandbox account's SID and token substituted)."""
    from providers.registry import KINDS
    from sandbox.kind import build

    monkeypatch.setitem(KINDS, "twilio-provider", dataclasses.replace(KINDS["twilio-provider"], build=build))


@pytest.fixture
def sandbox_account(db):
    from sandbox.services import sandbox_account_create

    return sandbox_account_create(friendly_name="compat test account")
