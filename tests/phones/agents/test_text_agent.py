"""Text agents: a text to a number attached to an agent is answered by the agent (sandbox-ai:
deterministic, no network; openai-realtime: the SDK against a local OpenAI-compatible server), after
the opt-out keywords and the number's rules, through the normal send path."""
from __future__ import annotations

import pytest

from orgs.services import connection_create
from phones.messaging.services import opt_out_record, sms_rules_update
from phones.models import Agent, Message
from sandbox.models import SandboxAccount, SandboxNumber
from tests.providers.openai.fake_openai import FakeOpenAI
from tests.webhooks.conftest import CALLER, NUMBER, PUBLIC, children

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def public_base_url(settings):
    settings.PUBLIC_BASE_URL = PUBLIC


@pytest.fixture(autouse=True)
def owned(number, sandbox):
    """The number, owned by the sandbox account too (SMS-capable), so replies can be sent from it."""
    SandboxNumber.objects.create(sid="PN" + "c" * 32, account=SandboxAccount.objects.get(sid=sandbox.account_id),
                                 phone_number=NUMBER, friendly_name="Main line", iso_country="US",
                                 number_type="local", sms=True)


@pytest.fixture
def attached(number, agent):
    number.agent = agent
    number.save()
    return number


def sent_to_caller() -> list[str]:
    return list(Message.objects.filter(direction="outbound", to_number=CALLER).order_by("created_at", "id")
                .values_list("body", flat=True))


def test_the_agent_answers_in_the_thread(text, attached):
    assert children(text("What are your opening hours?")) == []  # the answer is texted, not in the webhook's
    assert sent_to_caller() == ["We are open Monday to Friday, 9am to 5pm."]
    inbound = Message.objects.get(direction="inbound")
    reply = Message.objects.get(direction="outbound")
    assert reply.conversation == inbound.conversation and reply.from_number == attached.e164
    assert reply.provider_sid  # sent through the provider


def test_a_number_without_an_agent_does_not_answer(text, number):
    text("What are your opening hours?")
    assert sent_to_caller() == []


def test_opt_out_keywords_come_first_and_hold(text, attached):
    root = text("STOP")
    assert [body for _, _, body in children(root)][0].startswith("You have been unsubscribed")
    text("hello?")
    # Only the keyword's confirmation (in the webhook's answer): the agent answered neither text.
    assert len(sent_to_caller()) == 1 and sent_to_caller()[0].startswith("You have been unsubscribed")


def test_an_opted_out_sender_gets_nothing(text, attached, org):
    opt_out_record(org=org, e164=CALLER, keyword="STOP", number=attached)
    text("hello")
    assert sent_to_caller() == []


def test_a_replying_rule_wins(text, attached):
    rule = {"type": "auto-reply", "match": {"keywords": ["price"], "mode": "contains"},
            "params": {"template": "See our prices online."}}
    sms_rules_update(number=attached, rules=[rule])
    assert [body for _, _, body in children(text("price?"))] == ["See our prices online."]
    assert sent_to_caller() == ["See our prices online."]  # the rule's reply, kept in the thread; no agent's
    text("hello")
    assert sent_to_caller() == ["See our prices online.", "Hello! How can I help?"]


def test_the_agent_reads_the_conversation_through_openai(text, number, org, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.AI_TEXT_MODEL = "gpt-test-mini"
    with FakeOpenAI(reply="We open at nine.") as fake:
        ai = connection_create(org=org, type_="openai-realtime", name="OpenAI",
                               credentials={"apiKey": "sk-test-good"}, public_config={"baseUrl": fake.base_url})
        agent = Agent.objects.create(org=org, name="Desk", instructions="You work at Acme.", connection=ai)
        number.agent = agent
        number.save()
        text("Hi")
        text("When do you open?")
        chats = [r["body"] for r in fake.requests if r["path"] == "/v1/chat/completions"]
    assert sent_to_caller() == ["We open at nine.", "We open at nine."]
    last = chats[-1]
    assert last["model"] == "gpt-test-mini"
    assert last["messages"][0]["role"] == "system" and last["messages"][0]["content"].startswith("You work at Acme.")
    assert [(m["role"], m["content"]) for m in last["messages"][1:]] == [
        ("user", "Hi"), ("assistant", "We open at nine."), ("user", "When do you open?")]


def test_an_ai_failure_sends_nothing_and_breaks_nothing(text, number, org, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    with FakeOpenAI() as fake:
        ai = connection_create(org=org, type_="openai-realtime", name="OpenAI",
                               credentials={"apiKey": "sk-test-good"}, public_config={"baseUrl": fake.base_url})
    # The server is gone now: the agent cannot be reached.
    number.agent = Agent.objects.create(org=org, name="Desk", connection=ai)
    number.save()
    assert children(text("hello")) == []
    assert sent_to_caller() == []
    assert Message.objects.get(direction="inbound").conversation is not None
