"""What the documents a number is configured with (voice assignments, the IVR flow, SMS rules)
have in common: errors collected by dotted path, and the fields they are written with.

Pure: no database access. Every validator either returns the normalised document (defaults
filled in, phone numbers in E.164: exactly what the webhooks render) or raises one DRF
`ValidationError` whose keys are dotted paths into the request body
(`ivrFlow.nodes.main.options.1`, `rules[2].params.to`), every error at once.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.settings import api_settings

from core.serializers import E164Field

# The variables a message template may use; the webhook fills in "" for what it does not know
# (firstName/lastName come from the sender's contact record, when there is one).
TEMPLATE_VARIABLES = frozenset({"from", "to", "body", "firstName", "lastName", "orgName"})

SLUG = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
_TEMPLATE_TOKEN = re.compile(r"\{\{(.*?)\}\}")


# ---------------------------------------------------------------- error collection

class Errors:
    """Errors keyed by dotted path, in the order found (the first is the response's `field`)."""

    def __init__(self) -> None:
        self.by_path: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.by_path.setdefault(path, []).append(message)

    def add_detail(self, path: str, detail: Any) -> None:
        for sub_path, message in _flatten(detail, path):
            self.add(sub_path, message)

    def check(self, serializer_class: type[serializers.Serializer], data: Any, path: str,
              **kwargs: Any) -> dict | None:
        serializer = serializer_class(data=data, **kwargs)
        if serializer.is_valid():
            return dict(serializer.validated_data)
        self.add_detail(path, serializer.errors)
        return None

    def raise_if_any(self) -> None:
        if self.by_path:
            raise serializers.ValidationError(self.by_path)


def _flatten(detail: Any, path: str) -> Iterator[tuple[str, str]]:
    """DRF's nested error detail as (dotted path, message) pairs; list items as `[i]`."""
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            if key == api_settings.NON_FIELD_ERRORS_KEY:
                sub = path
            elif isinstance(key, int):
                sub = f"{path}[{key}]"
            else:
                sub = f"{path}.{key}" if path else str(key)
            yield from _flatten(value, sub)
    elif isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            for message in detail:
                yield path, str(message)
        else:
            for index, item in enumerate(detail):
                if item:
                    yield from _flatten(item, f"{path}[{index}]")
    else:
        yield path, str(detail)


def fail(field: str, message: str) -> serializers.ValidationError:
    return serializers.ValidationError({field: [message]})


# ---------------------------------------------------------------- shared fields

class Text(serializers.CharField):
    """A string, and only a string: DRF's CharField would quietly turn 42 into "42"."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def pattern(regex: str, message: str, **kwargs: Any) -> serializers.RegexField:
    return serializers.RegexField(regex, error_messages={"invalid": message}, **kwargs)


def node_id_field(**kwargs: Any) -> serializers.RegexField:
    return pattern(SLUG, "Node ids are slugs: letters, digits, - and _, at most 64.", **kwargs)


def external_id(**kwargs: Any) -> serializers.RegexField:
    """An id of something outside this service (an automation, a flow)."""
    return pattern(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$", "Letters, digits and _ . : - only, at most 100.", **kwargs)


def tag(**kwargs: Any) -> serializers.RegexField:
    return pattern(r"^[^\s,][^,]{0,49}$", "A tag is 1 to 50 characters, no commas, not starting with a space.",
                    **kwargs)


def queue_name(**kwargs: Any) -> serializers.RegexField:
    return pattern(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$",
                    "A queue name is 1 to 64 letters, digits, spaces and _ . -.", **kwargs)


def client_identity(**kwargs: Any) -> serializers.RegexField:
    """A Voice SDK client identity, as Twilio allows it."""
    return pattern(r"^[A-Za-z0-9_]{1,121}$", "A client identity is 1 to 121 letters, digits or _.", **kwargs)


class StrictE164(E164Field):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid_phone")
        return super().to_internal_value(data)


class Template(Text):
    """Message text with {{variable}} placeholders from TEMPLATE_VARIABLES."""

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        template_check(value, TEMPLATE_VARIABLES)
        return value


def template_check(value: str, allowed: frozenset[str]) -> None:
    for token in _TEMPLATE_TOKEN.findall(value):
        name = token.strip()
        if name not in allowed:
            raise serializers.ValidationError(
                f"Unknown variable {{{{{name}}}}}: use one of {', '.join(sorted(allowed))}.")
    if "{{" in _TEMPLATE_TOKEN.sub("", value) or "}}" in _TEMPLATE_TOKEN.sub("", value):
        raise serializers.ValidationError("Unbalanced {{ }} in the template.")


def seconds(low: int, high: int, default: int) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=low, max_value=high, required=False, default=default)
