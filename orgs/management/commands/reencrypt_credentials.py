from django.core.management.base import BaseCommand
from django.db import transaction

from core.crypto import reencrypt
from orgs.models import ProviderConnection


class Command(BaseCommand):
    help = ("Re-encrypt every stored credential with the first key of FIELD_ENCRYPTION_KEYS. "
            "Rotate keys by putting a new key first, running this, then removing the old key.")

    def handle(self, *args, **options):
        count = 0
        with transaction.atomic():
            for connection in ProviderConnection.objects.select_for_update().exclude(secret_blob=""):
                connection.secret_blob = reencrypt(connection.secret_blob)
                connection.save(update_fields=["secret_blob"])
                count += 1
        self.stdout.write(f"re-encrypted {count} connection(s)")
