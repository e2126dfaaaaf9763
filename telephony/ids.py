import secrets

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def new_public_id(prefix: str) -> str:
    """An opaque, unguessable id such as `pn_4k2j9x…`: the only id the API shows."""
    # 256 is a multiple of 32, so masking a random byte keeps every character equally likely.
    return f"{prefix}_" + "".join(_ALPHABET[b & 31] for b in secrets.token_bytes(20))
