"""The one way to scope by org.

Every API view derives from `OrgScopedAPIView`: after authentication it reads
the `orgid` header, checks the user's membership live (a removed member loses
access at once, whatever their token says) and the role the method needs. A
request made with an org API key acts in the key's org with the key's role (no
`orgid` needed; one naming another org is a 403), and its writes are audited
as the key's.
Querysets are narrowed with `for_org` before any lookup by id, so another org's
object is simply not found (404), never forbidden (403, which leaks existence).
"""
from __future__ import annotations

from typing import TypeVar

from django.db import models
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.views import APIView

from core.errors import InvalidInput, NotFound
from orgs.audit import audit_record
from orgs.authentication import api_key_of
from orgs.models import Membership, Org

M = TypeVar("M", bound=models.Model)


def membership_for(request: Request) -> Membership:
    slug = request.headers.get("orgid", "").strip()
    api_key = api_key_of(request)
    if api_key is not None:
        if slug and slug != api_key.org.slug:
            raise exceptions.PermissionDenied(f"This API key belongs to another org than {slug!r}")
        # Never saved: the key's principal holds no membership, only the key's role in its org.
        return Membership(user=api_key.user, org=api_key.org, role=api_key.role)
    if not slug:
        raise InvalidInput("The orgid header is required", code="orgid_required", field="orgid")
    membership = (
        Membership.objects.select_related("org")
        .filter(org__slug=slug, user=request.user)
        .first()
    )
    if membership is None:
        raise exceptions.PermissionDenied(f"You are not a member of org {slug!r}")
    return membership


def for_org(queryset: models.QuerySet[M], org: Org) -> models.QuerySet[M]:
    return queryset.filter(org=org)


def get_for_org(queryset: models.QuerySet[M], org: Org, **lookup) -> M:
    obj = for_org(queryset, org).filter(**lookup).first()
    if obj is None:
        raise NotFound(f"No such {queryset.model._meta.verbose_name}")
    return obj


class OrgScopedAPIView(APIView):
    """Base for every org API view. `roles` maps HTTP methods to the least role allowed."""

    roles: dict[str, str] = {}
    default_read_role = Membership.Role.MEMBER
    default_write_role = Membership.Role.ADMIN
    # The schema's security requirements (core.openapi.AutoSchema): a user's token goes with the
    # orgid header; an org API key goes alone.
    orgid_required = True
    api_key_allowed = True

    org: Org
    membership: Membership

    def required_role(self, method: str) -> str:
        if method == "PATCH" and method not in self.roles:
            method = "PUT"  # the same partial update (core.openapi.patch_like_put), the same role
        if method in self.roles:
            return self.roles[method]
        return self.default_read_role if method in ("GET", "HEAD", "OPTIONS") else self.default_write_role

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        self.membership = membership_for(request)
        self.org = self.membership.org
        role = self.required_role(request.method)
        if not self.membership.has_role(role):
            raise exceptions.PermissionDenied(f"This action needs the {role} role in org {self.org.slug!r}")

    def finalize_response(self, request: Request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        api_key = api_key_of(request)
        if api_key is not None and request.method not in SAFE_METHODS and response.status_code < 400:
            # What a server did with a key is in the audit log, as the key (its principal) did it.
            audit_record(actor=api_key.user, org=api_key.org, action="api_key.request", target=api_key,
                         note=f"{request.method} {request.path} → {response.status_code}")
        return response
