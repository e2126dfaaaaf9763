import pytest
from django.urls import get_resolver

pytestmark = pytest.mark.django_db

# Served to Twilio or staff, not to API clients.
NOT_IN_SCHEMA = ("admin/", "sandbox/", "healthz", "api/schema", "api/docs", "connect/webhook/")


def _api_paths():
    """Every URL pattern the API serves, in OpenAPI's {param} form."""
    import re

    paths = set()
    resolver = get_resolver()

    def walk(patterns, prefix=""):
        for p in patterns:
            route = prefix + str(p.pattern)
            if hasattr(p, "url_patterns"):
                walk(p.url_patterns, route)
            elif not route.startswith(NOT_IN_SCHEMA):
                paths.add("/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route))

    walk(resolver.url_patterns)
    return paths


def test_the_schema_covers_every_endpoint_with_its_errors(client):
    response = client.get("/api/schema", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    documented = set(schema["paths"])
    assert _api_paths() <= documented
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/api/auth/"):
                continue
            assert {"401", "403"} <= set(operation["responses"]), f"{method.upper()} {path}"


def test_swagger_ui_is_served(client):
    assert client.get("/api/docs").status_code == 200


def test_the_schema_generates_without_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert (tmp_path / "schema.yml").read_text().startswith("openapi: 3")
