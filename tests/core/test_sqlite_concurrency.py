"""SQLite, as `make run` uses it (a file, WAL, IMMEDIATE transactions, a busy timeout): twenty
purchases at once wait their turn. Each answers 202, 402 or 409 (never 500 "database is locked"),
and the balance is the sum of the ledger.

The purchases run in a child process (tests/core/sqlite_purchase_main.py) on a file database: the
test database is in memory, and its connections do not take SQLite's file locks the way the
server's do. On SQLite the file starts as a copy of the migrated test database; elsewhere the child
migrates it.
"""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPT = Path(__file__).with_name("sqlite_purchase_main.py")
THREADS = 20


def run_race(tmp_path: Path, threads: int = THREADS, **env: str) -> dict:
    database = tmp_path / "race.sqlite3"
    migrate = "1"
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        connection.ensure_connection()
        target = sqlite3.connect(database)
        connection.connection.backup(target)
        target.close()
        migrate = "0"
    child_env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "CELERY_BROKER_URL": "", "DEBUG": "true",
                 "RACE_MIGRATE": migrate, "LOG_LEVEL": "ERROR", **env}
    child_env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run([sys.executable, str(SCRIPT), str(threads)], env=child_env, capture_output=True,
                          text=True, timeout=240, cwd=settings.BASE_DIR)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT "):])


def test_twenty_concurrent_purchases_wait_for_the_lock_instead_of_failing(tmp_path, seeded_prices):
    result = run_race(tmp_path)
    assert result["journal_mode"] == "wal"
    assert result["errors"] == []
    assert len(result["statuses"]) == THREADS
    assert set(result["statuses"]) <= {202, 402, 409}
    assert 202 in result["statuses"] and 402 in result["statuses"]  # funds for some of them only
    assert result["balance"] == result["ledger"]
