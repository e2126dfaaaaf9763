import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


@pytest.mark.django_db(transaction=True)
def test_recording_migration_fills_existing_rows():
    executor = MigrationExecutor(connection)
    old = [("phones", "0011_traffic_tracking"), ("telephony", "0006_org_api_keys")]
    executor.migrate(old)
    apps = executor.loader.project_state(old).apps
    Org = apps.get_model("telephony", "Org")
    Conn = apps.get_model("telephony", "ProviderConnection")
    Number = apps.get_model("phones", "PhoneNumber")
    Call = apps.get_model("phones", "Call")
    Recording = apps.get_model("phones", "Recording")
    org = Org.objects.create(slug="o", name="o")
    conn = Conn.objects.create(org=org, type="sandbox-provider", name="s", public_id="int_x")
    number = Number.objects.create(org=org, connection=conn, e164="+14155550100", country="US", public_id="pn_x")
    call = Call.objects.create(org=org, phone_number=number, direction="inbound", from_number="a", to_number="b",
                               provider_sid="CA1", status="completed", public_id="call_x")
    Recording.objects.create(org=org, call=call, provider_sid="RE1")
    Recording.objects.create(org=org, provider_sid="RE2")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([("phones", "0013_recording_api")])
    apps = executor.loader.project_state([("phones", "0013_recording_api")]).apps
    Recording = apps.get_model("phones", "Recording")
    one, two = Recording.objects.get(provider_sid="RE1"), Recording.objects.get(provider_sid="RE2")
    assert one.public_id.startswith("rec_") and two.public_id.startswith("rec_") and one.public_id != two.public_id
    assert one.phone_number_id == number.pk and one.connection_id == conn.pk and two.phone_number_id is None
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
