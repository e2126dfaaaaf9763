"""`make run`'s first step: a development .env when there is none, so `manage.py` works after setup."""
from __future__ import annotations

import secrets

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management.base import BaseCommand

TEMPLATE = """# Written by `make run` for local development (never overwritten; delete it to get a new one).
# Production takes its settings from the environment: .env.example lists and explains them all.
DEBUG=true
SECRET_KEY={secret_key}
FIELD_ENCRYPTION_KEYS={encryption_key}
# PUBLIC_BASE_URL is left unset: it follows PORT (http://127.0.0.1:$PORT), the port `make run` serves on.
"""


class Command(BaseCommand):
    help = "Write a development .env (DEBUG on, a new SECRET_KEY and encryption key) unless one exists."

    def handle(self, *args, **options) -> None:
        path = settings.BASE_DIR / ".env"
        if path.exists():
            self.stdout.write(f"{path.name} exists: left as it is.")
            return
        path.write_text(TEMPLATE.format(secret_key=secrets.token_urlsafe(48),
                                        encryption_key=Fernet.generate_key().decode()))
        path.chmod(0o600)
        self.stdout.write(self.style.SUCCESS(f"Wrote {path.name} for development (DEBUG on, new keys)."))
