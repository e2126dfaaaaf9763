"""core.serializers.E164Field: digits with an optional single leading +, common separators only."""
from __future__ import annotations

import pytest
from rest_framework.exceptions import ValidationError

from core.serializers import E164Field


@pytest.mark.parametrize("raw", ["+1 415 555 0100", "14155550100", "+14155550100", "+1 (415) 555-0100",
                                 "+1.415.555.0100", " +1-415-555-0100 ", 14155550100])
def test_it_accepts_digits_with_common_separators(raw):
    assert E164Field().run_validation(raw) == "+14155550100"


@pytest.mark.parametrize("raw", ["+1415555abcd", "++14155550100", "+1+4155550100", "+1 415 555 0100 x12",
                                 "+1 415 555 0100 ext. 12", "+14155550100;ext=12", "+14155550100#1",
                                 "1-800-FLOWERS", "+1 415 555 0100\x00", "+", "", "tel:+14155550100",
                                 "+1/415/555/0100", 14155550100.0, True, "+1415555010", "+141555501001234567"])
def test_it_refuses_letters_a_second_plus_an_extension_and_anything_else(raw):
    with pytest.raises(ValidationError):
        E164Field().run_validation(raw)


def test_blank_is_blank_where_allowed():
    assert E164Field(allow_blank=True).run_validation("") == ""
