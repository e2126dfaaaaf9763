"""The one way to scope by org.

Every API view derives from `OrgScopedAPIView`: after JWT authentication it reads
the `orgid` header, checks the user's membership live (a removed member loses
access at once, whatever their token says) and the role the method needs.
Querysets are narrowed with `for_org` before any lookup by id, so another org's
object is simply not found (404), never forbidden (403, which leaks existence).
"""
from __future__ import annotations

from typing import TypeVar

from django.db import models
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.views import APIView

from core.errors import InvalidInput, NotFound
from orgs.models import Membership, Org

M = TypeVar("M", bound=models.Model)


def membership_for(request: Request) -> Membership:
    slug = request.headers.get("orgid", "").strip()
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

    org: Org
    membership: Membership

    def required_role(self, method: str) -> str:
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
