"""JSON with limits: no nesting deeper than MAX_DEPTH and no NUL character in any string.

The standard decoder recurses once per level, so `{"a":` × 5000 raises RecursionError, which
nothing expects (a 500); and a document a little under the interpreter's limit parses, then breaks
whatever walks it next. PostgreSQL refuses NUL in text and in jsonb, so a `\\u0000` that got this
far would be a 500 on the first write. Both are bad input: `JSONError`, which the API answers
with 400 (`LimitedJSONParser`, DRF's parser) and the webhooks with 400 as well.
"""
from __future__ import annotations

import codecs
import json
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings

MAX_DEPTH = 32


class JSONError(ValueError):
    """Not JSON, or JSON beyond our limits."""


def _no_constants(name: str) -> Any:
    raise JSONError(f"{name} is not valid JSON")


def loads(raw: bytes | str, *, max_depth: int = MAX_DEPTH, strict_constants: bool = True) -> Any:
    """The decoded document; JSONError when it is not JSON, nests deeper than `max_depth` or holds
    a NUL character in a key or a string."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JSONError("JSON must be UTF-8") from exc
    kwargs: dict[str, Any] = {"parse_constant": _no_constants} if strict_constants else {}
    try:
        value = json.loads(raw, **kwargs)
    except RecursionError as exc:
        raise JSONError(f"JSON nested deeper than {max_depth} levels") from exc
    except ValueError as exc:  # JSONDecodeError, and JSONError from _no_constants
        raise JSONError(str(exc)) from exc
    # Cheap checks first: most documents have fewer containers than the limit and no escaped NUL.
    if raw.count("[") + raw.count("{") > max_depth or "\\u0000" in raw:
        check(value, max_depth=max_depth)
    return value


def check(value: Any, *, max_depth: int = MAX_DEPTH) -> None:
    """JSONError when `value` nests deeper than `max_depth` or holds a NUL character. Iterative,
    so a deep value cannot exhaust the stack here."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise JSONError("JSON strings may not contain NUL characters")
        elif isinstance(item, (dict, list)):
            if depth > max_depth:
                raise JSONError(f"JSON nested deeper than {max_depth} levels")
            if isinstance(item, dict):
                for key, child in item.items():
                    if "\x00" in key:
                        raise JSONError("JSON keys may not contain NUL characters")
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)


class LimitedJSONParser(JSONParser):
    """DRF's JSON parser, through `loads`: a 400 (ParseError) for what it refuses."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            raw = stream.read() if stream is not None else b""
            text = codecs.decode(raw, encoding) if isinstance(raw, bytes) else raw
            return loads(text, strict_constants=self.strict and api_settings.STRICT_JSON)
        except (JSONError, UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
