import secrets

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def new_public_id(prefix: str) -> str:
    """An opaque, unguessable id such as `pn_4k2j9x…`: the only id the API shows."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHABET) for _ in range(20))
