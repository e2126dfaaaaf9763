"""Purchase and release on a real Celery worker process, over Redis, against PostgreSQL.

The `worker` marker makes them need both services (CI has them); elsewhere they skip
saying why, unless REQUIRE_SERVICES=1, which makes a missing service a failure.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from billing.models import LedgerEntry
from billing.services import balance_get, ledger_topup
from config.celery import app
from orgs.services import connection_create
from phones.models import Job, PhoneNumber
from sandbox.models import SandboxNumber
from tests.conftest import api_client
from tests.phones.conftest import available

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded_prices")]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def queue():
    name = f"test-{uuid.uuid4().hex[:8]}"
    previous = (app.conf.task_default_queue, app.conf.task_always_eager)
    app.conf.task_default_queue, app.conf.task_always_eager = name, False
    yield name
    app.conf.task_default_queue, app.conf.task_always_eager = previous


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def start_worker(queue):
    workers = []

    def start(*extra: str) -> subprocess.Popen:
        env = {**os.environ, "DATABASE_URL": _database_url(), "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
               "SECRET_KEY": settings.SECRET_KEY, "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
               "DEBUG": "false", "JOB_LEASE_SECONDS": "2", "CELERY_QUEUE": queue}
        worker = subprocess.Popen(
            [sys.executable, "-m", "tests.phones.worker_main", *extra, "-Q", queue, "--pool=prefork",
             "--concurrency=1", "--loglevel=INFO", "--without-heartbeat", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()
        print(worker.stdout.read())  # shown by pytest when the test fails


def wait_for(predicate, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def job_status(public_id: str) -> str:
    return Job.objects.get(public_id=public_id).status


@pytest.fixture
def setup(alice, org):
    conn = connection_create(org=org, type_="sandbox-provider", name="Sandbox", credentials={})
    ledger_topup(org=org, amount=10_000, reason="test funds")
    return api_client(alice, org), conn


def test_purchase_and_release_run_on_a_real_worker(setup, start_worker):
    api, conn = setup
    start_worker()
    bought = api.post("/phone/numbers", {"phoneNumber": available(conn)}, format="json")
    assert bought.status_code == 202
    job_id = bought.json()["job"]["id"]
    wait_for(lambda: job_status(job_id) in ("succeeded", "failed"), what="the purchase job")
    assert job_status(job_id) == "succeeded"
    number = PhoneNumber.objects.get()
    assert number.status == "active"
    assert SandboxNumber.objects.filter(sid=number.provider_sid).exists()

    released = api.delete(f"/phone/numbers/{number.public_id}")
    release_job = released.json()["job"]["id"]
    wait_for(lambda: job_status(release_job) in ("succeeded", "failed"), what="the release job")
    assert job_status(release_job) == "succeeded"
    number.refresh_from_db()
    assert number.status == "released"
    assert not SandboxNumber.objects.exists()
    assert LedgerEntry.objects.filter(kind="refund").count() == 1


def test_a_worker_killed_mid_purchase_is_redelivered_and_buys_once(setup, start_worker):
    api, conn = setup
    worker = start_worker("--slow-purchase", "3")
    bought = api.post("/phone/numbers", {"phoneNumber": available(conn)}, format="json")
    assert bought.status_code == 202, bought.json()
    job_id = bought.json()["job"]["id"]
    wait_for(lambda: job_status(job_id) == "running", what="the job to start")
    children = subprocess.run(["pgrep", "-P", str(worker.pid)], capture_output=True, text=True).stdout.split()
    assert children, "the worker has no pool process"
    for child in children:
        os.kill(int(child), signal.SIGKILL)   # the pool child dies mid-purchase; the message is not acked

    wait_for(lambda: job_status(job_id) in ("succeeded", "failed"), timeout=90, what="the redelivered job")
    job = Job.objects.get(public_id=job_id)
    assert job.status == "succeeded"
    assert job.attempts >= 2
    assert SandboxNumber.objects.filter(account__sid=conn.account_id).count() == 1
    assert LedgerEntry.objects.filter(kind="purchase_hold").count() == 1
    assert balance_get(org=conn.org).balance == 10_000 - 115
