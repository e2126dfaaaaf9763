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
from phones.jobs import jobs_requeue_stale
from phones.messaging.tasks import thread_inbound_sms
from phones.models import Job, PhoneNumber
from phones.numbers.tasks import purchase_number
from sandbox.models import SandboxNumber
from tests.conftest import api_client
from tests.phones.conftest import available
from tests.phones.test_faults import age_jobs, broker_down

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


def stop(worker: subprocess.Popen) -> str:
    """Stop the worker and return what it logged."""
    os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    return worker.stdout.read()


def test_a_worker_killed_after_the_provider_sold_the_number_adopts_it_on_redelivery_and_charges_once(
        setup, start_worker):
    api, conn = setup
    worker = start_worker("--pause-after-purchase", "60")
    bought = api.post("/phone/numbers", {"phoneNumber": available(conn)}, format="json")
    assert bought.status_code == 202, bought.json()
    job_id = bought.json()["job"]["id"]
    # The provider has the number; the worker has not recorded it (it is pausing before it does).
    sold = wait_for(lambda: SandboxNumber.objects.filter(account__sid=conn.account_id).first(),
                    what="the sandbox to sell the number")
    number = PhoneNumber.objects.get()
    assert (number.status, number.provider_sid, job_status(job_id)) == ("pending", "", "running")
    children = subprocess.run(["pgrep", "-P", str(worker.pid)], capture_output=True, text=True).stdout.split()
    assert children, "the worker has no pool process"
    for child in children:
        os.kill(int(child), signal.SIGKILL)   # the pool child dies mid-purchase; the message is not acked

    wait_for(lambda: job_status(job_id) in ("succeeded", "failed"), timeout=90, what="the redelivered job")
    job = Job.objects.get(public_id=job_id)
    assert job.status == "succeeded", job.error
    assert job.attempts >= 2
    assert job.result["sid"] == sold.sid
    number.refresh_from_db()
    assert (number.status, number.provider_sid) == ("active", sold.sid)
    assert SandboxNumber.objects.filter(account__sid=conn.account_id).count() == 1
    assert LedgerEntry.objects.filter(kind="purchase_hold").count() == 1
    assert balance_get(org=conn.org).balance == 10_000 - 115
    log = stop(worker)
    assert "the sandbox sold the number" in log
    assert f"adopts {number.e164}, already owned by the account" in log  # the retry adopted it, never bought again


def test_a_purchase_the_broker_refused_is_sent_by_the_sweep_and_bought_by_a_real_worker(setup, start_worker):
    api, conn = setup
    start_worker()
    body = {"phoneNumber": available(conn)}
    with broker_down(purchase_number) as down:
        bought = api.post("/phone/numbers", body, format="json", HTTP_IDEMPOTENCY_KEY="broker-down")
    assert down.attempts == 1
    assert bought.status_code == 202, bought.json()
    job_id = bought.json()["job"]["id"]
    time.sleep(2)
    assert job_status(job_id) == "queued"   # nothing reached the broker, so no worker has it
    replay = api.post("/phone/numbers", body, format="json", HTTP_IDEMPOTENCY_KEY="broker-down")
    assert replay.status_code == 202 and replay.json()["job"]["id"] == job_id

    age_jobs()
    assert [job.public_id for job in jobs_requeue_stale()] == [job_id]
    wait_for(lambda: job_status(job_id) in ("succeeded", "failed"), what="the job the sweep sent")
    assert job_status(job_id) == "succeeded"
    assert PhoneNumber.objects.get().status == "active"
    assert SandboxNumber.objects.filter(account__sid=conn.account_id).count() == 1
    assert balance_get(org=conn.org).balance == 10_000 - 115


def _worker_backends() -> list[tuple]:
    """The worker's connections to this database, idle between tasks: (pid, backend_start, query_start)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid, backend_start, query_start FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                       "AND backend_type = 'client backend' AND state = 'idle'")
        return cursor.fetchall()


def test_a_worker_keeps_its_database_connection_from_one_task_to_the_next(start_worker):
    """Not a new PostgreSQL connection per task (a backend started, every statement planned afresh)."""
    start_worker()
    thread_inbound_sms.delay()
    [(pid, started, queried)] = wait_for(_worker_backends, what="the worker's connection, idle after its task")
    thread_inbound_sms.delay()
    after = wait_for(lambda: [row for row in _worker_backends() if row[2] > queried], what="the second task's query")
    assert [(row[0], row[1]) for row in after] == [(pid, started)]
