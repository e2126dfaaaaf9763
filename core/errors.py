"""One domain error type, rendered by one DRF exception handler into one JSON shape:

    {"error": {"code": "provider_not_configured", "message": "Twilio not configured"}}

plus `field` for bad input and any extra keys a caller needs (e.g. `needed`,
`available` on 402, `providerCode` on 422).
"""
from typing import Any

from django.core.exceptions import BadRequest, PermissionDenied
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class DomainError(Exception):
    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid_request"

    def __init__(self, message: str, *, code: str | None = None, status_code: int | None = None,
                 field: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code
        self.field = field
        self.extra = extra

    def as_dict(self) -> dict:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        body.update(self.extra)
        return {"error": body}


class InvalidInput(DomainError):
    code = "invalid_request"


class NotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"


class Conflict(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


class InsufficientBalance(DomainError):
    status_code = status.HTTP_402_PAYMENT_REQUIRED
    code = "insufficient_balance"


class ProviderNotConfigured(DomainError):
    code = "provider_not_configured"

    def __init__(self, message: str = "Twilio not configured", **kw: Any) -> None:
        super().__init__(message, **kw)


def _first_error(detail: Any, prefix: str = "") -> tuple[str | None, str]:
    """The first (field, message) of a DRF ValidationError detail, nested fields dotted."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            path = f"{prefix}.{name}" if prefix and name else (name or prefix)
            return _first_error(value, path)
    if isinstance(detail, list) and detail:
        if all(isinstance(d, (str, exceptions.ErrorDetail)) for d in detail):
            return prefix or None, str(detail[0])
        for index, item in enumerate(detail):
            if item:
                return _first_error(item, f"{prefix}[{index}]" if prefix else f"[{index}]")
    return prefix or None, str(detail)


def _drf_code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    if isinstance(codes, dict) and isinstance(codes.get("code"), str):
        return codes["code"]
    return exc.default_code


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status_code)
    if callable(to_domain := getattr(exc, "as_domain_error", None)):  # e.g. providers.base.ProviderError
        err = to_domain()
        return Response(err.as_dict(), status=err.status_code)
    if isinstance(exc, exceptions.ValidationError):
        field, message = _first_error(exc.detail)
        body: dict[str, Any] = {"code": "invalid_request", "message": f"{field}: {message}" if field else message}
        if field:
            body["field"] = field
        body["details"] = exc.detail
        return Response({"error": body}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        return Response({"error": {"code": "not_found", "message": "Not found"}}, status=404)
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, DataError):
        # The database refused a value (out of its range, not representable): bad input that got
        # past validation. The statement failed, so nothing was written; a 400, not a 500.
        return Response({"error": {"code": "invalid_request", "message": "A value is out of range for this field"}},
                        status=status.HTTP_400_BAD_REQUEST)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    message = detail.get("detail", str(detail)) if isinstance(detail, dict) else str(detail)
    response.data = {"error": {"code": _drf_code(exc), "message": str(message)}}
    return response


# Django's own HTML pages stay where people read them: the admin, and the sandbox (the Twilio
# emulator answers its own errors). Everything else is the API or a webhook: the one JSON shape.
HTML_PREFIXES = ("/admin/", "/sandbox/")


def not_found_view(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: an unknown path (a typo, a trailing-slash variant) answers the error shape."""
    if request.path.startswith(HTML_PREFIXES):
        return defaults.page_not_found(request, exception)
    return JsonResponse({"error": {"code": "not_found", "message": "Not found"}}, status=404)


def bad_request_view(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400: what Django refuses before a view answers (a body it cannot read, a webhook
    body that is not usable JSON) answers the error shape."""
    if request.path.startswith(HTML_PREFIXES):
        return defaults.bad_request(request, exception)
    # Only our own BadRequest's words: a SuspiciousOperation's may name settings (ALLOWED_HOSTS).
    message = str(exception) if isinstance(exception, BadRequest) and str(exception) else "Bad request"
    return JsonResponse({"error": {"code": "invalid_request", "message": message}}, status=400)
