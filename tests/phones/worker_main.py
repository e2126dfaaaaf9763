"""Runs a real Celery worker for tests/phones/test_worker.py.

`--slow-purchase N` makes each purchase request to the sandbox take N seconds first, so a
test can kill the worker's child process while a purchase is in flight.
"""
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from config.celery import app  # noqa: E402
from sandbox.client import SandboxHttpClient  # noqa: E402


def slow_purchases(seconds: float) -> None:
    original = SandboxHttpClient.request

    def request(client, method, url, *args, **kwargs):
        if method.upper() == "POST" and url.endswith("/IncomingPhoneNumbers.json"):
            time.sleep(seconds)
        return original(client, method, url, *args, **kwargs)

    SandboxHttpClient.request = request


if __name__ == "__main__":
    argv = sys.argv[1:]
    if argv[:1] == ["--slow-purchase"]:
        slow_purchases(float(argv[1]))
        argv = argv[2:]
    app.worker_main(["worker", *argv])
