from django.apps import AppConfig


class TelephonyConfig(AppConfig):
    name = "orgs"
    label = "telephony"  # the tables and migrations were made under this label
    verbose_name = "Organisations and providers"

    def ready(self) -> None:
        from orgs import signals  # noqa: F401  (connects the session-revoking receivers)
