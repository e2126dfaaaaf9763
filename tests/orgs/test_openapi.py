import pytest
from django.urls import get_resolver

pytestmark = pytest.mark.django_db

# Served to Twilio or staff, not to API clients.
NOT_IN_SCHEMA = ("admin/", "sandbox/", "healthz", "api/schema", "api/docs", "api/redoc", "connect/webhook/")
# Authorised by a signed URL instead of a token (phones.recordings: a browser's <audio> sends none).
TOKENLESS = ("/recordings/{id}/media",)


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
            if path in TOKENLESS:
                # No token is read, so none can be refused (no 401); a bad signature is the 403.
                assert "security" not in operation and "403" in operation["responses"], f"{method.upper()} {path}"
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


def _schema(client) -> dict:
    return client.get("/api/schema", HTTP_ACCEPT="application/json").json()


def _response_schema(schema: dict, path: str, method: str = "get", status: str = "200") -> dict:
    content = schema["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
    return schema["components"]["schemas"][content["$ref"].rsplit("/", 1)[1]] if "$ref" in content else content


def test_list_endpoints_are_documented_as_the_data_object_they_return(client):
    schema = _schema(client)
    for path in ("/integrations", "/api-keys", "/phone/groups", "/billing/prices", "/phone/softphone/presence",
                 "/billing/ledger", "/inbox/conversations", "/phone/numbers/{id}/messages", "/agents", "/broadcasts",
                 "/broadcasts/{id}/recipients", "/trunks", "/recordings"):
        documented = _response_schema(schema, path)
        assert documented["type"] == "object" and documented["properties"]["data"]["type"] == "array", path
        assert "data" in documented["required"], path
        if path != "/phone/numbers/{id}/messages":  # 003's cursor page: {data, hasMore}
            assert {"total", "limit", "offset"} <= set(documented["required"]), path
            parameters = {p["name"] for p in schema["paths"][path]["get"]["parameters"]}
            assert {"limit", "offset"} <= parameters, path


def test_nullable_dates_and_known_objects_are_typed(client):
    components = _schema(client)["components"]["schemas"]
    number = components["PhoneNumber"]["properties"]
    for field in ("purchasedAt", "nextBillingDate", "releasedAt"):
        assert number[field]["nullable"] is True, field
    job = components["Job"]["properties"]
    assert job["startedAt"]["nullable"] is True and job["finishedAt"]["nullable"] is True
    assert not components["Job"]["properties"]["createdAt"].get("nullable")
    for owner, field in (("PhoneNumber", "capabilities"), ("PhoneNumber", "configuration"),
                         ("PhoneNumber", "pricing"), ("Job", "result"), ("Job", "error"),
                         ("Importable", "capabilities")):
        prop = components[owner]["properties"][field]
        ref = prop.get("$ref") or prop["allOf"][0]["$ref"]
        assert components[ref.rsplit("/", 1)[1]]["properties"], f"{owner}.{field}"
    assert components["Message"]["properties"]["mediaUrls"]["items"]["type"] == "string"


def test_numbers_and_countries_carry_their_patterns(client):
    import re

    from core.openapi import E164_PATTERN

    components = _schema(client)["components"]["schemas"]
    for owner, field in (("PurchaseRequest", "phoneNumber"), ("ImportRequest", "phoneNumber"),
                         ("SendSmsRequest", "to"), ("MakeCallRequest", "to"), ("PhoneNumber", "phoneNumber"),
                         ("AvailableNumber", "phoneNumber")):
        assert components[owner]["properties"][field]["pattern"] == E164_PATTERN, f"{owner}.{field}"
    assert re.fullmatch(E164_PATTERN, "+14155550100") and not re.fullmatch(E164_PATTERN, "+0123")
    # forwardTo may be "" (no forwarding): the schema says so.
    forward = components["SmsConfigRequest"]["properties"]["forwardTo"]["oneOf"]
    assert {"type": "string", "maxLength": 0} in forward and any(o.get("pattern") == E164_PATTERN for o in forward)
    assert components["SetupRequest"]["properties"]["countryCode"]["pattern"] == "^[A-Za-z]{2}$"


def test_security_says_who_may_call_each_operation(client):
    schema = _schema(client)
    assert not schema.get("security")  # no blanket requirement: each operation has its own
    for path in ("/api/auth/token", "/api/auth/token/refresh"):
        assert not schema["paths"][path]["post"].get("security"), path
    for path in TOKENLESS:
        assert not schema["paths"][path]["get"].get("security"), path
    user = {"jwtAuth": [], "orgid": []}
    for path, operations in schema["paths"].items():
        if path.startswith("/api/auth/") or path in TOKENLESS:
            continue
        for method, operation in operations.items():
            security = operation["security"]
            # A signed-in user's token never goes without the orgid header …
            assert {"jwtAuth": []} not in security and user in security, f"{method.upper()} {path}"
            # … and an org API key goes alone, except where keys are managed (owners signed in only).
            assert ({"orgApiKey": []} in security) != path.startswith("/api-keys"), f"{method.upper()} {path}"
            assert "400" in operation["responses"], f"{method.upper()} {path}"  # orgid_required
