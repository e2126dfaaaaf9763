import secrets

from django.db import models

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def new_public_id(prefix: str) -> str:
    """An opaque, unguessable id such as `pn_4k2j9x…`: the only id the API shows."""
    # 256 is a multiple of 32, so masking a random byte keeps every character equally likely.
    return f"{prefix}_" + "".join(_ALPHABET[b & 31] for b in secrets.token_bytes(20))


class PublicIdModel(models.Model):
    """A model the API names by an opaque id (`<prefix>_…`), never by its database key."""

    public_id_prefix = ""
    public_id = models.CharField(max_length=32, unique=True, editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if not self.public_id:
            self.public_id = new_public_id(self.public_id_prefix)
        super().save(*args, **kwargs)
