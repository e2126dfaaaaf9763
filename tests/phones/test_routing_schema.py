"""The routing endpoints document themselves without schema warnings.

This module is also the URLconf the schema is generated from: the routing views alone, so
another module's schema warnings cannot fail (or hide) these.
"""
import pytest
import yaml
from django.core.management import call_command
from django.urls import include, path

from phones import api_routing

urlpatterns = [
    path("phone/numbers/<str:public_id>/routing", api_routing.RoutingView.as_view()),
    path("", include("phones.urls_routing")),
]


@pytest.mark.django_db
def test_the_routing_schema_generates_without_warnings(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--urlconf", __name__, "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    operations = {op["operationId"]: op for ops in schema["paths"].values() for op in ops.values()}
    assert set(operations) == {"phone_routing_get", "phone_routing_update", "phone_sms_rules_get",
                               "phone_sms_rules_update", "phone_groups_list", "phone_groups_create",
                               "phone_groups_get", "phone_groups_update", "phone_groups_delete"}
    for operation in operations.values():
        assert operation["tags"] == ["routing"]
        assert {"401", "403"} <= set(operation["responses"])
