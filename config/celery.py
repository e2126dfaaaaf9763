import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("telephony")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Tasks live in the feature that runs them; their names are pinned (name=...) to the module
# path they were first queued under, so a deploy never strands a queued task.
app.autodiscover_tasks(["billing", "phones.numbers", "phones.calls", "phones.messaging", "phones.verify",
                        "phones.recordings", "phones.broadcasts", "sandbox"])
