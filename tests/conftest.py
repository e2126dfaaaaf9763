"""Shared fixtures. Like healthchecks' BaseTestCase: an owner (alice) with an admin
and a member in her org, and an outsider (charlie) who should see none of Alice's stuff."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from orgs.models import Membership, Org

PASSWORD = "correct horse battery"


def make_user(username: str, **extra):
    return get_user_model().objects.create_user(username=username, password=PASSWORD, **extra)


def api_client(user, org: Org | str | None) -> APIClient:
    """A client that sends a fresh access token for `user` and the `orgid` header."""
    client = APIClient()
    token = RefreshToken.for_user(user).access_token
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    if org is not None:
        client.defaults["HTTP_ORGID"] = org if isinstance(org, str) else org.slug
    return client


@pytest.fixture
def alice(db):
    return make_user("alice")


@pytest.fixture
def org(alice):
    org = Org.objects.create(slug="alice-co", name="Alice & Co")
    Membership.objects.create(user=alice, org=org, role=Membership.Role.OWNER)
    return org


@pytest.fixture
def org_admin(org):
    user = make_user("adam")
    Membership.objects.create(user=user, org=org, role=Membership.Role.ADMIN)
    return user


@pytest.fixture
def member(org):
    user = make_user("bob")
    Membership.objects.create(user=user, org=org, role=Membership.Role.MEMBER)
    return user


@pytest.fixture
def charlie(db):
    return make_user("charlie")


@pytest.fixture
def other_org(charlie):
    other = Org.objects.create(slug="charlie-inc", name="Charlie Inc")
    Membership.objects.create(user=charlie, org=other, role=Membership.Role.OWNER)
    return other


@pytest.fixture
def owner_api(alice, org) -> APIClient:
    return api_client(alice, org)


@pytest.fixture
def admin_api(org_admin, org) -> APIClient:
    return api_client(org_admin, org)


@pytest.fixture
def member_api(member, org) -> APIClient:
    return api_client(member, org)


@pytest.fixture
def outsider_api(charlie, other_org) -> APIClient:
    """Charlie, acting in his own org, reaching for Alice's objects by id."""
    return api_client(charlie, other_org)


@pytest.fixture
def seeded_prices(transactional_db):
    """The price table a migration seeds, again: transactional tests flush it between tests."""
    import importlib

    from django.apps import apps

    importlib.import_module("billing.migrations.0002_seed_prices").seed(apps, None)


def needs(what: str) -> None:
    """Skip a test that needs a service this run lacks, or fail it where the run must have it (CI)."""
    import os

    message = f"needs {what}"
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


def pytest_runtest_setup(item):
    """Decide before any fixture touches the database (a serialized rollback would break SQLite)."""
    from django.conf import settings

    on_postgres = "postgresql" in settings.DATABASES["default"]["ENGINE"]
    if item.get_closest_marker("postgres") and not on_postgres:
        needs("PostgreSQL (row locks and concurrent transactions): set DATABASE_URL=postgres://…")
    if item.get_closest_marker("worker"):
        missing = [name for name, ok in (("PostgreSQL (DATABASE_URL)", on_postgres),
                                         ("a broker (CELERY_BROKER_URL)", bool(settings.CELERY_BROKER_URL))) if not ok]
        if missing:
            needs(" and ".join(missing))


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Real hashers cost ~0.2 s a user by design; tests only need passwords to check."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def webhook_cache_cleared():
    """Each test starts with no cached webhook lookup: rows a rolled-back test made are gone."""
    from webhooks import lookup_cache

    lookup_cache.invalidate()


@pytest.fixture(autouse=True)
def celery_eager(request):
    """Tasks run in-process unless a test is marked `worker` (a real worker over Redis)."""
    from config.celery import app

    if request.node.get_closest_marker("worker"):
        yield
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


NODE_TWILIO = "twilio@6"


@pytest.fixture(scope="session")
def twilio_node() -> Path:
    """A temp dir with twilio-node installed from the npm registry; removed at the end. Without node
    and npm (or the registry), a skip saying so; REQUIRE_SERVICES=1 (CI) makes that a failure."""
    def missing(reason: str) -> None:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"REQUIRE_SERVICES=1 but {reason}")
        pytest.skip(reason)

    if not (shutil.which("npm") and shutil.which("node")):
        missing("node and npm are needed to run twilio-node")
    folder = Path(tempfile.mkdtemp(prefix="telephony-twilio-node-"))
    installed = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", NODE_TWILIO], cwd=folder,
                               capture_output=True, text=True, timeout=600)
    if installed.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        missing(f"npm install {NODE_TWILIO} failed: {installed.stderr[-1500:]}")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
