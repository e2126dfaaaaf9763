"""`make worker` / `make beat`: say so, and stop, when there is no broker to work for."""
from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Exit with an explanation when CELERY_BROKER_URL is not set (tasks then run eagerly in the web process)."

    def handle(self, *args, **options) -> None:
        if not settings.CELERY_BROKER_URL:
            raise CommandError(
                "CELERY_BROKER_URL is not set, so Celery runs every task eagerly inside the web process "
                "(`make run` needs no worker). For separate workers set CELERY_BROKER_URL, e.g. "
                "redis://127.0.0.1:6379/0, in the environment or .env.")
        self.stdout.write(f"broker: {settings.CELERY_BROKER_URL.split('@')[-1]}")
