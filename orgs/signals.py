"""A user's sessions end when their credentials or access change: a new password, a deactivation
or a removed membership blacklists their outstanding refresh tokens (orgs.auth.refresh_tokens_revoke).

Connected in TelephonyConfig.ready. QuerySet.update() sends no signals: change users through
save() (the admin, set_password, the services) for this to apply.
"""
from __future__ import annotations

from django.conf import settings
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from orgs.auth import refresh_tokens_revoke
from orgs.models import Membership

_WATCHED = {"password", "is_active"}


@receiver(pre_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="orgs.user_credentials_before")
def user_credentials_before(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    instance._revoke_sessions = False
    if raw or instance.pk is None or (update_fields is not None and not _WATCHED & set(update_fields)):
        return  # a fixture, a new user, or a save that touches neither (e.g. last_login)
    # set_password() leaves the new raw password in `_password` until save; a hash upgrade on
    # login (check_password's setter) clears it first and saves only the password: not a change.
    if getattr(instance, "_password", None) is not None:
        instance._revoke_sessions = True
        return
    hash_upgrade = update_fields is not None and set(update_fields) == {"password"}
    before = sender._default_manager.filter(pk=instance.pk).values("password", "is_active").first()
    if before is None:
        return
    deactivated = before["is_active"] and not instance.is_active
    password_replaced = before["password"] != instance.password and not hash_upgrade
    instance._revoke_sessions = deactivated or password_replaced


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="orgs.user_credentials_after")
def user_credentials_after(sender, instance, created=False, **kwargs) -> None:
    if getattr(instance, "_revoke_sessions", False):
        instance._revoke_sessions = False
        refresh_tokens_revoke(user_id=instance.pk)


@receiver(post_delete, sender=Membership, dispatch_uid="orgs.membership_removed")
def membership_removed(sender, instance: Membership, **kwargs) -> None:
    refresh_tokens_revoke(user_id=instance.user_id)
