"""What an operator sees when starting the app: bad settings refused at once, a development .env
written once and never overwritten, and no worker started without a broker."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "FIELD_ENCRYPTION_KEYS", "SECRET_KEY", "DEBUG")}
    return subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=cwd, env={**base, **env},
                          capture_output=True, text=True, timeout=60)


def test_a_bad_encryption_key_is_refused_before_anything_runs(tmp_path):
    result = manage("create_org", "acme", "--owner", "ops", DEBUG="false", SECRET_KEY="s" * 40,
                    FIELD_ENCRYPTION_KEYS="not-a-fernet-key", DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3")
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS holds a key that is not a Fernet key" in result.stderr
    assert not (tmp_path / "db.sqlite3").exists()  # nothing was written, not even a database file


def test_a_good_key_starts(tmp_path):
    result = manage("check", DEBUG="false", SECRET_KEY="s" * 40, FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
                    DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3")
    assert result.returncode == 0, result.stderr


def test_the_development_env_is_written_once(tmp_path, settings):
    from django.core.management import call_command

    settings.BASE_DIR = tmp_path
    call_command("write_dev_env")
    written = (tmp_path / ".env").read_text()
    assert "DEBUG=true" in written and "SECRET_KEY=" in written and "FIELD_ENCRYPTION_KEYS=" in written
    key = next(line.split("=", 1)[1] for line in written.splitlines() if line.startswith("FIELD_ENCRYPTION_KEYS="))
    Fernet(key)  # a real key
    assert oct((tmp_path / ".env").stat().st_mode & 0o777) == "0o600"
    (tmp_path / ".env").write_text("DEBUG=false\n")
    call_command("write_dev_env")
    assert (tmp_path / ".env").read_text() == "DEBUG=false\n"


def test_a_worker_without_a_broker_says_why_and_stops():
    result = manage("require_broker", DEBUG="true", CELERY_BROKER_URL="")
    assert result.returncode == 1
    assert "runs every task eagerly inside the web process" in result.stderr
    result = manage("require_broker", DEBUG="true", CELERY_BROKER_URL="redis://user:secret@127.0.0.1:6379/0")
    assert result.returncode == 0 and "secret" not in result.stdout
