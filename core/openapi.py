"""Schema helpers: every endpoint documents its errors in the one error shape."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse

from core.serializers import ErrorSerializer

_DESCRIPTIONS = {
    400: "Bad input (the field is named), or no provider connection (`provider_not_configured`)",
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
    """Error responses for the schema: 401 and 403 always, plus the ones named."""
    return {code: OpenApiResponse(ErrorSerializer, description=_DESCRIPTIONS[code])
            for code in sorted({401, 403, *statuses})}


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
