"""Runs a real Celery worker for tests/phones/test_worker.py.

`--pause-after-purchase N` makes each purchase request to the sandbox wait N seconds after the
sandbox has sold the number and before the answer reaches the job, so a test can kill the
worker's child process when the provider has the number and we have not recorded it.
"""
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from config.celery import app  # noqa: E402
from sandbox.client import SandboxHttpClient  # noqa: E402


def pause_after_purchases(seconds: float) -> None:
    original = SandboxHttpClient.request

    def request(client, method, url, *args, **kwargs):
        response = original(client, method, url, *args, **kwargs)
        if method.upper() == "POST" and url.endswith("/IncomingPhoneNumbers.json"):
            print(f"worker_main: the sandbox sold the number; pausing {seconds}s before it is recorded", flush=True)
            time.sleep(seconds)
        return response

    SandboxHttpClient.request = request


if __name__ == "__main__":
    argv = sys.argv[1:]
    if argv[:1] == ["--pause-after-purchase"]:
        pause_after_purchases(float(argv[1]))
        argv = argv[2:]
    app.worker_main(["worker", *argv])
