"""The migration that gives recordings their public id, number and connection fills in the rows
recorded before it (on PostgreSQL too, where updating rows before an ALTER TABLE in the same
transaction fails unless the foreign keys are checked at once)."""
from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def _executor() -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor


@pytest.mark.django_db(transaction=True)
def test_recordings_recorded_before_the_migration_get_an_id_a_number_and_a_connection():
    executor = _executor()
    [target] = [key for key in executor.loader.graph.nodes if key[0] == "phones" and key[1].endswith("_recording_api")]
    before = sorted(executor.loader.graph.node_map[target].parents, key=lambda node: node.key)
    before = [node.key for node in before]
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    org = apps.get_model("telephony", "Org").objects.create(slug="o", name="o")
    conn = apps.get_model("telephony", "ProviderConnection").objects.create(
        org=org, type="sandbox-provider", name="s", public_id="int_x")
    number = apps.get_model("phones", "PhoneNumber").objects.create(
        org=org, connection=conn, e164="+14155550100", country="US", public_id="pn_x")
    call = apps.get_model("phones", "Call").objects.create(
        org=org, phone_number=number, direction="inbound", from_number="+14155550111", to_number="+14155550100",
        provider_sid="CA1", status="completed", public_id="call_x")
    Recording = apps.get_model("phones", "Recording")
    Recording.objects.create(org=org, call=call, provider_sid="RE1")
    Recording.objects.create(org=org, provider_sid="RE2")

    executor = _executor()
    executor.migrate([target])
    Recording = executor.loader.project_state([target]).apps.get_model("phones", "Recording")
    with_call, without = Recording.objects.get(provider_sid="RE1"), Recording.objects.get(provider_sid="RE2")
    assert with_call.public_id.startswith("rec_") and without.public_id.startswith("rec_")
    assert with_call.public_id != without.public_id
    assert (with_call.phone_number_id, with_call.connection_id) == (number.pk, conn.pk)
    assert (without.phone_number_id, without.connection_id) == (None, None)

    executor = _executor()
    executor.migrate(executor.loader.graph.leaf_nodes())
