"""Schemathesis against the live schema, in-process (the WSGI app), as an org owner.

Every operation in `/api/schema` gets the examples, coverage and fuzzing phases (at most
MAX_EXAMPLES fuzzed cases each, positive and negative data, a fixed seed), signed in as the owner
of an org with a sandbox connection, a funded balance and active numbers (the `{id}` of the
number, connection, ring group and job operations is that object's, so their cases reach past the
404; DELETE /phone/numbers/{id} releases a number of its own, so the number the other operations use
stays active). Two checks must never fail: no 5xx (`not_a_server_error`) and every documented
response matches its schema (`response_schema_conformance`). The stateful phase is not run: its
chains would cost minutes more of CI on 2 cores.

Real commits (transactional_db): what a request enqueues after commit runs, eagerly, like a
purchase's job does in `make run`.
"""
from __future__ import annotations

import sys
import time
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.conftest import api_client

pytestmark = pytest.mark.django_db(transaction=True)

MAX_EXAMPLES = 25
SEED = 20260101
CHECKS = [schemathesis.checks.not_a_server_error, response_schema_conformance]

RUN = Counter()
OPERATIONS: set[str] = set()
TIMINGS: dict[str, tuple[int, float]] = {}


@pytest.fixture
def live_org(alice, org, seeded_prices):
    """Alice's org with a sandbox connection, $100.00, two active numbers and a ring group."""
    from billing.services import ledger_topup
    from orgs.services import connection_create
    from tests.phones.conftest import available

    connection = connection_create(org=org, type_="sandbox-provider", name="Sandbox", credentials={})
    ledger_topup(org=org, amount=10_000, reason="schemathesis funds")
    owner = api_client(alice, org)
    bought = [owner.post("/phone/numbers", {"phoneNumber": available(connection, area_code),
                                            "friendlyName": "Fuzzed"}, format="json") for area_code in ("415", "212")]
    assert [response.status_code for response in bought] == [202, 202], [response.json() for response in bought]
    for response in bought:  # the job ran after the request committed
        assert owner.get(f"/phone/numbers/{response.json()['number']['id']}").json()["status"] == "active"
    group = owner.post("/phone/groups", {"name": "Fuzzed", "members": []}, format="json")
    assert group.status_code == 201, group.json()
    from sandbox.models import SandboxAccount
    from sandbox.trunking import sandbox_trunk_create

    sandbox_trunk_create(account=SandboxAccount.objects.get(sid=connection.account_id), friendly_name="Fuzzed")
    [trunk] = owner.post("/trunks/sync").json()["data"]
    ai = owner.post("/integrations", {"type": "sandbox-ai", "name": "Fuzzed AI"}, format="json").json()
    agent = owner.post("/agents", {"name": "Fuzzed", "connectionId": ai["id"]}, format="json")
    assert agent.status_code == 201, agent.json()
    from phones.models import Call, PhoneNumber

    number = PhoneNumber.objects.get(public_id=bought[0].json()["number"]["id"])
    call = Call.objects.create(org=org, phone_number=number,
                               direction="inbound", from_number="+14155550111", to_number="+14155550100",
                               provider_sid="CA" + "f" * 32, status="completed", ai_status="ended",
                               ai_transcript=[{"role": "agent", "text": "Hello", "at": "2026-01-01T00:00:00Z"}])
    return {"connection": connection.public_id, "number": bought[0].json()["number"]["id"],
            "released": bought[1].json()["number"]["id"], "job": bought[0].json()["job"]["id"],
            "group": group.json()["id"], "agent": agent.json()["id"], "call": call.public_id,
            "trunk": trunk["id"]}


def _path(prefix: str) -> str:
    return "^" + prefix.replace("{", r"\{").replace("}", r"\}")


@pytest.fixture
def api_schema(alice, org, live_org, request):
    from rest_framework_simplejwt.tokens import RefreshToken

    from config.wsgi import application

    token = RefreshToken.for_user(alice).access_token
    ids = [("/phone/numbers/{id}", live_org["number"]), ("/integrations/{id}", live_org["connection"]),
           ("/phone/groups/{id}", live_org["group"]), ("/jobs/{id}", live_org["job"]),
           ("/trunks/{id}", live_org["trunk"]), ("/agents/{id}", live_org["agent"]),
           ("/calls/{id}", live_org["call"])]
    config = SchemathesisConfig.from_dict({
        "seed": SEED,
        "headers": {"Authorization": f"Bearer {token}", "orgid": org.slug},
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True},
                   "fuzzing": {"enabled": True}, "stateful": {"enabled": False}},
        "generation": {"max-examples": MAX_EXAMPLES, "mode": "all", "database": "none"},
        "operations": [
            # The compat layer's 002 paths, in this org's account (another account is a plain 404).
            {"include-path": "/api/v1/account/{accountId}/numbers/{id}",
             "parameters": {"path.accountId": org.slug, "path.id": live_org["released"]}},
            {"include-path-regex": "^/api/v1/account/", "parameters": {"path.accountId": org.slug}},
            {"include-path": "/phone/numbers/{id}", "include-method": "DELETE",
             "parameters": {"path.id": live_org["released"]}},
            *({"include-path-regex": _path(prefix), "exclude-method": "DELETE", "parameters": {"path.id": object_id}}
              for prefix, object_id in ids if prefix == "/phone/numbers/{id}"),
            *({"include-path-regex": _path(prefix), "parameters": {"path.id": object_id}}
              for prefix, object_id in ids if prefix != "/phone/numbers/{id}"),
        ],
    })
    yield schemathesis.openapi.from_wsgi("/api/schema", application, config=config)
    lines = [f"schemathesis: {len(OPERATIONS)} operations, {RUN['cases']} cases, {RUN['failures']} failed "
             f"(with Hypothesis's shrinking)", "slowest operations:"]
    lines += [f"  {seconds:6.1f}s {cases:4d} cases  {label}"
              for label, (cases, seconds) in sorted(TIMINGS.items(), key=lambda item: -item[1][1])[:5]]
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    for line in lines:
        if reporter is not None:
            reporter.write_line(line)
        else:
            print(line, file=sys.stderr)


SETTINGS = settings(derandomize=True, deadline=None, database=None, print_blob=False,
                    suppress_health_check=list(HealthCheck))


def test_no_server_errors_and_every_response_matches_the_schema(api_schema):
    """Each operation runs as schemathesis's pytest plugin would run it (the plugin's lazy loader
    does not run under pytest 9), and every operation runs even when another one fails."""
    from schemathesis.checks import load_all_checks
    from schemathesis.pytest.lazy import get_all_tests

    load_all_checks()

    def call(case):
        RUN["cases"] += 1
        OPERATIONS.add(case.operation.label)
        try:
            case.call_and_validate(checks=CHECKS)
        except (Exception, BaseExceptionGroup):  # schemathesis's FailureGroup is a BaseExceptionGroup
            RUN["failures"] += 1
            raise

    failures = {}
    for result in get_all_tests(schema=api_schema, test_func=call, settings=SETTINGS, given_kwargs={}):
        if not isinstance(result, Ok):
            failures[str(result.err())] = result.err()
            continue
        operation, test = result.ok()
        started, cases = time.monotonic(), RUN["cases"]
        try:
            test()
        except (Exception, BaseExceptionGroup) as exc:  # a failing case, after Hypothesis shrank it
            failures[operation.label] = exc
        finally:
            TIMINGS[operation.label] = (RUN["cases"] - cases, time.monotonic() - started)
    report = "\n\n".join(f"{label}:\n{exc}" for label, exc in failures.items())
    assert not failures, f"{len(failures)} operations failed:\n\n{report}"
