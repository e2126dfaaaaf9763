from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Provider webhooks"

    def ready(self) -> None:
        from orgs.models import Org, ProviderConnection
        from phones.models import PhoneNumber, PhoneRouting
        from webhooks import lookup_cache

        # A change to what a webhook's lookup reads empties this process's copy of it.
        for model in (PhoneNumber, PhoneRouting, ProviderConnection, Org):
            for name, signal in (("save", post_save), ("delete", post_delete)):
                signal.connect(lookup_cache.invalidate, sender=model,
                               dispatch_uid=f"webhook-cache-{model.__name__}-{name}")
