from django.apps import AppConfig


class BroadcastsConfig(AppConfig):
    """Bulk texts. Its own app (label `broadcasts`) so its tables and migrations are its own; its
    models point at the org, numbers and messages of the `telephony` and `phones` apps."""

    name = "phones.broadcasts"
    label = "broadcasts"
    verbose_name = "Broadcasts"
    default_auto_field = "django.db.models.BigAutoField"
