"""GET /trunks, GET /trunks/{id}, POST /trunks/sync: the SIP trunks of the org's provider accounts."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from core.openapi import errors
from orgs.scoping import OrgScopedAPIView, get_for_org
from phones.trunks import selectors, services
from phones.trunks.serializers import TrunkListQuerySerializer, TrunkPageSerializer, TrunkSerializer


def _page(org, limit: int, offset: int) -> dict:
    trunks = selectors.trunk_list(org=org).select_related("connection")
    return {"data": TrunkSerializer(trunks[offset:offset + limit], many=True).data, "total": trunks.count(),
            "limit": limit, "offset": offset}


class TrunksView(OrgScopedAPIView):
    @extend_schema(operation_id="trunks_list", tags=["trunks"], parameters=[TrunkListQuerySerializer],
                   responses={200: TrunkPageSerializer, **errors(400)},
                   description="The SIP trunks of the org's provider accounts (name, termination domain, "
                               "origination URLs) with how many of its numbers are on each. Read again from "
                               f"the provider when the last read is older than {services.SYNC_SECONDS} s; if the "
                               "provider does not answer then, the stored trunks are listed (see `syncedAt`). "
                               "Providers without SIP trunks here (Plivo, Telnyx) list none.")
    def get(self, request):
        query = TrunkListQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        services.trunks_sync_if_stale(org=self.org)
        return Response(_page(self.org, query.validated_data["limit"], query.validated_data["offset"]))


class TrunksSyncView(OrgScopedAPIView):
    @extend_schema(operation_id="trunks_sync", tags=["trunks"], request=None, parameters=[TrunkListQuerySerializer],
                   responses={200: TrunkPageSerializer, **errors(400, 502, 503)},
                   description="Read the trunks from the provider now and answer the list. Trunks deleted at "
                               "the provider are forgotten and their numbers, which the provider let go, get our "
                               "voice webhook back. A provider that fails: 502/503 and nothing changes.")
    def post(self, request):
        query = TrunkListQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        services.trunks_sync(org=self.org)
        return Response(_page(self.org, query.validated_data["limit"], query.validated_data["offset"]))


class TrunkDetailView(OrgScopedAPIView):
    @extend_schema(operation_id="trunks_get", tags=["trunks"], responses={200: TrunkSerializer, **errors(404)},
                   description="One trunk, as last read from the provider.")
    def get(self, request, public_id: str):
        trunk = get_for_org(selectors.trunk_list(org=self.org).select_related("connection"), self.org,
                            public_id=public_id)
        return Response(TrunkSerializer(trunk).data)
