"""The production shape as the README runs it: `make prod` (the Procfile's web, worker and beat under
honcho) on PostgreSQL and Redis with DEBUG off, on a database of its own."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.worker
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_url(name: str) -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


@pytest.fixture
def database():
    name = f"prod_shape_{uuid.uuid4().hex[:8]}"
    admin = connection.settings_dict
    with psycopg.connect(host=admin["HOST"] or "127.0.0.1", port=admin["PORT"] or 5432, user=admin["USER"],
                         password=admin["PASSWORD"] or None, dbname="postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        yield _server_url(name)
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _request(url: str, body: dict | None = None, headers: dict | None = None):
    """(status, body, headers), the headers looked up without regard to case."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers


def _until(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"not within {seconds}s: {what}")


def test_make_prod_serves_styles_health_jobs_and_beat(database, tmp_path):
    port = _free_port()
    env = {**os.environ, "DEBUG": "false", "DATABASE_URL": database, "PORT": str(port), "HOST": "127.0.0.1",
           "CELERY_BROKER_URL": settings.CELERY_BROKER_URL, "CELERY_QUEUE": f"prod-shape-{uuid.uuid4().hex[:8]}",
           "SECRET_KEY": "production-shape-test-secret-key-of-enough-bytes",
           "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(), "ALLOWED_HOSTS": "127.0.0.1",
           "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "WEB_CONCURRENCY": "1", "WORKER_CONCURRENCY": "1",
           "RENEWAL_INTERVAL_SECONDS": "2", "BEAT_SCHEDULE_FILE": str(tmp_path / "beat-schedule")}
    env.pop("PYTEST_CURRENT_TEST", None)
    log = tmp_path / "prod.log"
    with log.open("w") as out:
        prod = subprocess.Popen(["make", "-s", "prod"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _until(lambda: _request(f"{base}/healthz")[0] == 200 if _port_open(port) else False, 90,
               f"healthz answering (log: {log.read_text()[-2000:]})")
        status, body, _ = _request(f"{base}/healthz")
        assert json.loads(body) == {"status": "ok", "database": "ok", "broker": "ok"}
        # The admin's styles, served by WhiteNoise from collectstatic's fingerprinted copy.
        status, page, _ = _request(f"{base}/admin/login/")
        assert status == 200
        css = next(part.split('"')[1] for part in page.decode().split("href=")[1:] if "base" in part and ".css" in part)
        status, _, headers = _request(f"{base}{css}")
        assert status == 200 and headers["Content-Type"].startswith("text/css")

        manage = [str(ROOT / ".venv/bin/python"), "manage.py"]
        subprocess.run([*manage, "create_org", "acme", "--owner", "ops", "--password", "ops-password-123",
                        "--balance", "10000", "--sandbox"], cwd=ROOT, env=env, check=True, capture_output=True)
        status, body, _ = _request(f"{base}/api/auth/token", {"username": "ops", "password": "ops-password-123"})
        assert status == 200, body
        auth = {"Authorization": f"Bearer {json.loads(body)['access']}", "orgid": "acme"}
        status, body, _ = _request(f"{base}/phone/available?countryCode=US&areaCode=415&limit=1", headers=auth)
        assert status == 200, log.read_text().split("Internal Server Error", 1)[-1][:4000]
        e164 = json.loads(body)["numbers"][0]["phoneNumber"]
        status, body, _ = _request(f"{base}/phone/numbers", {"phoneNumber": e164}, auth)
        assert status == 202, body
        job = json.loads(body)["job"]["id"]
        done = _until(lambda: (lambda b: b if b["status"] in ("succeeded", "failed") else None)(
            json.loads(_request(f"{base}/jobs/{job}", headers=auth)[1])), 60, "the purchase job through the worker")
        assert done["status"] == "succeeded", done
        # Beat sends the renewal sweep every 2 s here, and the worker runs it.
        _until(lambda: "billing.tasks.renew_due_numbers" in log.read_text()
               and "succeeded" in log.read_text().split("renew_due_numbers", 1)[-1], 30, "beat's renewal sweep run")
    finally:
        os.killpg(prod.pid, signal.SIGTERM)
        try:
            prod.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(prod.pid, signal.SIGKILL)


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0
