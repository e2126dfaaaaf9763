import pytest
from django.urls import get_resolver

pytestmark = pytest.mark.django_db

# Served to Twilio or staff, not to API clients.
NOT_IN_SCHEMA = ("admin/", "sandbox/", "healthz", "api/schema", "api/docs", "api/redoc", "connect/webhook/")


def _api_paths():
    """Every URL pattern the API serves, in OpenAPI's {param} form (an object's id is `{id}` in the
    schema, `public_id` in the URL patterns)."""
    import re

    paths = set()
    resolver = get_resolver()

    def walk(patterns, prefix=""):
        for p in patterns:
            route = prefix + str(p.pattern)
            if hasattr(p, "url_patterns"):
                walk(p.url_patterns, route)
            elif not route.startswith(NOT_IN_SCHEMA):
                paths.add("/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route).replace("{public_id}", "{id}"))

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


def test_path_ids_are_named_id_and_the_docs_load_offline(client):
    schema = client.get("/api/schema", HTTP_ACCEPT="application/json").json()
    assert "/phone/numbers/{id}" in schema["paths"] and not any("public_id" in p for p in schema["paths"])
    parameters = schema["paths"]["/phone/numbers/{id}"]["get"]["parameters"]
    assert [p["name"] for p in parameters if p["in"] == "path"] == ["id"]
    for page in ("/api/docs", "/api/redoc"):
        html = client.get(page).content.decode()
        assert "/static/drf_spectacular_sidecar/" in html and "cdn" not in html.lower(), page
    assert client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js").status_code == 200
