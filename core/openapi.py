"""Schema helpers: every endpoint documents its errors in the one error shape, and who may call it
(security requirements, `AutoSchema`). The list envelope's schema is core.pagination.page_schema."""
from __future__ import annotations

from collections.abc import Callable

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema

from core.serializers import ErrorSerializer

_DESCRIPTIONS = {
    400: "Bad input (the field is named), no `orgid` header with a signed-in user's token (`orgid_required`), "
         "or no provider connection (`provider_not_configured`)",
    401: "Missing, expired or tampered token",
    402: "Insufficient balance (with the amount needed and available)",
    403: "Not a member of the orgid org, or the role does not allow it",
    404: "Unknown, or another org's object",
    409: "Conflict",
    422: "The provider refused (with the provider's code)",
    502: "The provider answered badly",
    503: "The provider is unreachable",
}


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """Error responses for the schema: 400 (a missing orgid header), 401 and 403 always, plus the
    ones named."""
    return {code: OpenApiResponse(ErrorSerializer, description=_DESCRIPTIONS[code])
            for code in sorted({400, 401, 403, *statuses})}


class AutoSchema(SpectacularAutoSchema):
    """Who may call an operation, as its security requirements say:

    - a view with no authentication classes (logging in, refreshing) needs none;
    - a signed-in user's token (jwtAuth) needs the `orgid` header on a view that sets
      `orgid_required` (every org-scoped view: orgs.scoping), so the two are one requirement;
    - an org API key (orgApiKey) needs nothing else, and is left out where a view sets
      `api_key_allowed = False` (managing keys is for owners signed in as themselves).
    """

    def get_auth(self) -> list[dict[str, list]]:
        if not self.view.get_authenticators():
            return []
        requirements: list[dict[str, list]] = []
        for requirement in super().get_auth():
            if "orgApiKey" in requirement and not getattr(self.view, "api_key_allowed", True):
                continue
            if "jwtAuth" in requirement and getattr(self.view, "orgid_required", False):
                requirement = {**requirement, "orgid": []}
            if requirement not in requirements:
                requirements.append(requirement)
        return requirements


# What every E.164 number in the API looks like: "+", a country code, at most 15 digits in all.
E164_PATTERN = r"^\+[1-9][0-9]{1,14}$"


class E164FieldScheme(OpenApiSerializerFieldExtension):
    """core.serializers.E164Field in the schema: the E.164 pattern (drf-spectacular adds the "" a
    field that allows blank takes). Input is also accepted without the "+" and with spaces, dots,
    dashes or brackets between the digits; it is always answered in E.164."""

    target_class = "core.serializers.E164Field"

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "pattern": E164_PATTERN, "example": "+14155550100"}


def path_ids_named_id(result: dict, generator, request, public: bool) -> dict:
    """drf-spectacular postprocessing hook: an object's id in a path is `{id}` in the schema (the
    URL patterns call it `public_id`, the value every response's `id` field carries)."""
    paths = {}
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("in") == "path" and parameter.get("name") == "public_id":
                    parameter["name"] = "id"
        paths[path.replace("{public_id}", "{id}")] = operations
    result["paths"] = paths
    return result


def patch_like_put(put: Callable, operation_id: str) -> Callable:
    """A view's PATCH: its PUT, which is already a partial update, documented as that PUT is (request,
    responses, description) under its own operation id."""
    def patch(self, request, *args, **kwargs):
        return put(self, request, *args, **kwargs)

    patch.kwargs = dict(getattr(put, "kwargs", {}))  # the PUT's extend_schema, which this one extends
    return extend_schema(operation_id=operation_id)(patch)
