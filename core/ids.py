import secrets

from django.db import models

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def new_public_id(prefix: str) -> str:
    """An opaque, unguessable id such as `pn_4k2j9x…`: the only id the API shows."""
    # 256 is a multiple of 32, so masking a random byte keeps every character equally likely.
    return f"{prefix}_" + "".join(_ALPHABET[b & 31] for b in secrets.token_bytes(20))


class PublicIdField(models.CharField):
    """An opaque public id, made on insert when none was given.

    Filled in `pre_save`, which Django calls for `save()` and `bulk_create` alike, so no
    caller has to make one by hand. The prefix is the field's own, or the model's
    `public_id_prefix`.
    """

    def __init__(self, *args, prefix: str = "", **kwargs) -> None:
        self.prefix = prefix
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("unique", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.prefix:
            kwargs["prefix"] = self.prefix
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = getattr(model_instance, self.attname)
        if add and not value:
            value = new_public_id(self.prefix or model_instance.public_id_prefix)
            setattr(model_instance, self.attname, value)
        return value


class PublicIdModel(models.Model):
    """A model the API names by an opaque id (`<prefix>_…`), never by its database key."""

    public_id_prefix = ""
    public_id = PublicIdField()

    class Meta:
        abstract = True
