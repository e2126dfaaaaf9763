"""Which numbers the emulator sells only with an address (Twilio's `address_requirements`).

`none`, `any` (an address anywhere), `local` (an address in the number's country) or `foreign`
(an address outside it). Emulated: GB local numbers need an address anywhere, GB mobiles one in
the United Kingdom, Australian local numbers one in Australia; GB toll-free, Australian mobile, US
and Canadian numbers need none. A leaf module: the
inventory, the wire format and the purchase check (sandbox.regulatory) all read it.
"""
from __future__ import annotations

NONE, ANY, LOCAL, FOREIGN = "none", "any", "local", "foreign"
# (country, number type as sandbox.inventory names it) -> Twilio's address_requirements.
ADDRESS_REQUIREMENTS: dict[tuple[str, str], str] = {
    ("GB", "local"): ANY,
    ("GB", "mobile"): LOCAL,
    ("AU", "local"): LOCAL,
}


def address_requirement(country: str, number_type: str) -> str:
    """What address a number of this country and type needs to be bought."""
    return ADDRESS_REQUIREMENTS.get((country, number_type), NONE)
