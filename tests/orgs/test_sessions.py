"""Sessions: a refresh token is used once (even concurrently), a changed password, a deactivation
or a removed membership ends the user's sessions, and logins and refreshes are throttled."""
import threading

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from orgs.models import Membership
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


class CheapPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """A newer hasher for the hash-upgrade test, cheap enough for a test."""

    algorithm = "pbkdf2_cheap"
    iterations = 1


def login(username: str, password: str = PASSWORD, **extra):
    return APIClient().post("/api/auth/token", {"username": username, "password": password}, format="json", **extra)


def refresh(token: str, **extra):
    return APIClient().post("/api/auth/token/refresh", {"refresh": token}, format="json", **extra)


def tokens(username: str) -> dict:
    response = login(username)
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def generous_throttles(settings):
    settings.AUTH_THROTTLE_RATE = "1000/min"
    settings.AUTH_ADDRESS_THROTTLE_RATE = "1000/min"


# --- a refresh token is used once --------------------------------------------------------------

@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_of_ten_concurrent_refreshes_with_one_token_exactly_one_succeeds(alice, generous_throttles):
    token = tokens("alice")["refresh"]
    start = threading.Barrier(10)
    statuses: list[int] = []
    bodies: list[dict] = []

    def use_it():
        try:
            start.wait()
            response = refresh(token)
            statuses.append(response.status_code)
            bodies.append(response.json())
        finally:
            connection.close()

    threads = [threading.Thread(target=use_it) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [200] + [401] * 9
    assert sum(1 for body in bodies if "refresh" in body) == 1
    assert all(body["error"]["code"] == "token_not_valid" for body in bodies if "error" in body)
    # The used token is blacklisted once; only the one winner's new token was recorded.
    assert BlacklistedToken.objects.count() == 1
    assert OutstandingToken.objects.filter(user=alice).count() == 2
    (new_token,) = [body["refresh"] for body in bodies if "refresh" in body]
    assert refresh(new_token).status_code == 200


def test_a_used_refresh_token_is_refused_and_changes_nothing(alice):
    first = tokens("alice")["refresh"]
    assert refresh(first).status_code == 200
    outstanding, blacklisted = OutstandingToken.objects.count(), BlacklistedToken.objects.count()
    response = refresh(first)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"
    assert (OutstandingToken.objects.count(), BlacklistedToken.objects.count()) == (outstanding, blacklisted)


# --- revoked with the user's credentials or access ---------------------------------------------

def test_a_password_change_revokes_the_users_refresh_tokens(alice, charlie):
    mine = [tokens("alice")["refresh"], tokens("alice")["refresh"]]
    theirs = tokens("charlie")["refresh"]
    alice.set_password("a brand new password")
    alice.save()
    for token in mine:
        response = refresh(token)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "token_not_valid"
    assert login("alice").status_code == 401  # the old password
    assert login("alice", "a brand new password").status_code == 200
    assert refresh(theirs).status_code == 200  # no one else's sessions end


def test_a_deactivation_revokes_the_users_refresh_tokens_for_good(alice):
    token = tokens("alice")["refresh"]
    alice.is_active = False
    alice.save()
    assert refresh(token).status_code == 401
    assert BlacklistedToken.objects.filter(token__user=alice).count() == 1
    alice.is_active = True  # reactivated: a fresh login is needed, the old session stays dead
    alice.save()
    assert refresh(token).status_code == 401
    assert login("alice").status_code == 200


def test_a_removed_membership_revokes_the_users_refresh_tokens(org, member, alice):
    token = tokens("bob")["refresh"]
    owner_token = tokens("alice")["refresh"]
    Membership.objects.get(user=member, org=org).delete()
    response = refresh(token)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"
    assert refresh(owner_token).status_code == 200
    assert Membership.objects.filter(user=alice, org=org).exists()


def test_saves_that_change_no_credential_keep_the_sessions(alice):
    token = tokens("alice")["refresh"]
    tokens("alice")  # a login saves last_login
    alice.first_name = "Alice"
    alice.save()
    alice.save(update_fields=["last_login"])
    assert BlacklistedToken.objects.count() == 0
    assert refresh(token).status_code == 200


def test_a_password_hash_upgrade_at_login_is_not_a_password_change(alice, settings):
    token = tokens("alice")["refresh"]  # stored with the MD5 hasher the tests use
    settings.PASSWORD_HASHERS = ["tests.orgs.test_sessions.CheapPBKDF2PasswordHasher",
                                 "django.contrib.auth.hashers.MD5PasswordHasher"]
    assert login("alice").status_code == 200
    alice.refresh_from_db()
    assert alice.password.startswith("pbkdf2_cheap$")  # upgraded on login
    assert refresh(token).status_code == 200


# --- throttles ---------------------------------------------------------------------------------

def test_logins_are_throttled_per_username_and_the_right_password_works_after_the_window(
        alice, charlie, settings, clock):
    settings.AUTH_THROTTLE_RATE = "3/min"
    settings.AUTH_ADDRESS_THROTTLE_RATE = "100/min"
    for _ in range(3):
        assert login("alice", "wrong").status_code == 401
    response = login("alice")  # even the right password, within the window
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert login("alice", REMOTE_ADDR="10.0.0.9").status_code == 429  # per username, from anywhere
    assert login("charlie").status_code == 200  # another username is not affected
    clock.advance(61)
    assert login("alice").status_code == 200


def test_logins_are_throttled_per_client_address(alice, charlie, settings, clock):
    settings.AUTH_THROTTLE_RATE = "100/min"
    settings.AUTH_ADDRESS_THROTTLE_RATE = "3/min"
    for name in ("u1", "u2", "u3"):
        assert login(name, "wrong").status_code == 401
    response = login("alice")
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    # A forged X-Forwarded-For is not another address (NUM_PROXIES is 0).
    assert login("alice", HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 429
    assert login("charlie", REMOTE_ADDR="10.0.0.9").status_code == 200
    clock.advance(61)
    assert login("alice").status_code == 200


def test_refreshes_are_throttled_per_user(alice, settings, clock):
    settings.AUTH_THROTTLE_RATE = "2/min"
    settings.AUTH_ADDRESS_THROTTLE_RATE = "100/min"
    token = tokens("alice")["refresh"]
    for _ in range(2):
        response = refresh(token, REMOTE_ADDR="10.0.0.1")
        assert response.status_code == 200
        token = response.json()["refresh"]
    response = refresh(token, REMOTE_ADDR="10.0.0.2")
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    clock.advance(61)
    assert refresh(token).status_code == 200  # the throttled attempt did not use the token


def test_refreshes_are_throttled_per_client_address(alice, charlie, settings, clock):
    settings.AUTH_THROTTLE_RATE = "100/min"
    settings.AUTH_ADDRESS_THROTTLE_RATE = "2/min"
    for _ in range(2):
        assert refresh("not.a.token").status_code == 401
    response = refresh(tokens("charlie")["refresh"])
    assert response.status_code == 429
    clock.advance(61)
    assert refresh(tokens("alice")["refresh"]).status_code == 200


def test_a_forged_refresh_token_does_not_spend_the_users_allowance(alice, settings):
    from rest_framework_simplejwt.tokens import RefreshToken

    settings.AUTH_THROTTLE_RATE = "2/min"
    settings.AUTH_ADDRESS_THROTTLE_RATE = "100/min"
    forged = RefreshToken.for_user(alice)
    forged_str = str(forged)[:-4] + ("AAAA" if not str(forged).endswith("AAAA") else "BBBB")
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        assert refresh(forged_str, REMOTE_ADDR=address).status_code == 401
    assert refresh(tokens("alice")["refresh"]).status_code == 200
