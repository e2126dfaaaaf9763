import os

from celery import Celery
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("telephony")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Tasks live in the feature that runs them; their names are pinned (name=...) to the module
# path they were first queued under, so a deploy never strands a queued task.
app.autodiscover_tasks(["billing", "phones.numbers", "phones.calls", "phones.messaging", "phones.verify",
                        "phones.recordings", "phones.broadcasts", "sandbox"])


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(sender=None, **kwargs) -> None:
    """Between tasks, a worker keeps or drops its database connection by Django's own rule for
    requests (close_old_connections: older than CONN_MAX_AGE, or left unusable by an error).
    Celery's Django fixup would otherwise close it before and after every task: settings'
    CELERY_DB_REUSE_MAX lets it keep it. A connection per task cost a PostgreSQL backend's
    start and the planning of every statement afresh: most of a short task's time."""
    if not getattr(getattr(sender, "request", None), "is_eager", False):
        close_old_connections()
