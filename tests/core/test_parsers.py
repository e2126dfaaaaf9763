"""core.parsers: JSON with a depth limit and no NUL characters."""
from __future__ import annotations

import io

import pytest
from rest_framework.exceptions import ParseError

from core.parsers import MAX_DEPTH, JSONError, LimitedJSONParser, loads


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_it_decodes_ordinary_json():
    assert loads(b'{"a": [1, {"b": "c"}], "d": null}') == {"a": [1, {"b": "c"}], "d": None}
    assert loads(nested(MAX_DEPTH)) is not None


@pytest.mark.parametrize("raw", [nested(MAX_DEPTH + 1), nested(900), nested(5000), '{"a":' * 5000,
                                 '{"a": "\\u0000"}', '{"\\u0000": 1}', '["ok", ["\\u0000"]]', "NaN",
                                 '{"a": Infinity}', b"\xff", "", "{"])
def test_it_refuses_deep_nul_and_broken_json(raw):
    with pytest.raises(JSONError):
        loads(raw)


def test_drf_gets_a_parse_error_which_is_a_400():
    with pytest.raises(ParseError):
        LimitedJSONParser().parse(io.BytesIO(('{"a":' * 5000).encode()), "application/json", {})
    assert LimitedJSONParser().parse(io.BytesIO(b'{"a": 1}'), "application/json", {}) == {"a": 1}
