"""GET /trunks, GET /trunks/{id}, POST /trunks/sync: the SIP trunks of the org's provider accounts."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from core.openapi import errors
from core.pagination import PageQuerySerializer, page_query, page_response, page_schema
from orgs.scoping import OrgScopedAPIView, get_for_org
from phones.trunks import selectors, services
from phones.trunks.serializers import TrunkSerializer

TRUNK_PAGE = page_schema(TrunkSerializer, "TrunkPage")


def _page(org, query: dict) -> Response:
    return page_response(selectors.trunk_list(org=org).select_related("connection"), TrunkSerializer, query)


class TrunksView(OrgScopedAPIView):
    @extend_schema(operation_id="trunks_list", tags=["trunks"], parameters=[PageQuerySerializer],
                   responses={200: TRUNK_PAGE, **errors(400)},
                   description="The SIP trunks of the org's provider accounts (name, termination domain, "
                               "origination URLs) with how many of its numbers are on each. Read again from "
                               f"the provider when the last read is older than {services.SYNC_SECONDS} s; if the "
                               "provider does not answer then, the stored trunks are listed (see `syncedAt`). "
                               "Providers without SIP trunks here (Plivo, Telnyx) list none.")
    def get(self, request):
        query = page_query(request)
        services.trunks_sync_if_stale(org=self.org)
        return _page(self.org, query)


class TrunksSyncView(OrgScopedAPIView):
    @extend_schema(operation_id="trunks_sync", tags=["trunks"], request=None, parameters=[PageQuerySerializer],
                   responses={200: TRUNK_PAGE, **errors(400, 502, 503)},
                   description="Read the trunks from the provider now and answer the list. Trunks deleted at "
                               "the provider are forgotten and their numbers, which the provider let go, get our "
                               "voice webhook back. A provider that fails: 502/503 and nothing changes.")
    def post(self, request):
        query = page_query(request)
        services.trunks_sync(org=self.org)
        return _page(self.org, query)


class TrunkDetailView(OrgScopedAPIView):
    @extend_schema(operation_id="trunks_get", tags=["trunks"], responses={200: TrunkSerializer, **errors(404)},
                   description="One trunk, as last read from the provider.")
    def get(self, request, public_id: str):
        trunk = get_for_org(selectors.trunk_list(org=self.org).select_related("connection"), self.org,
                            public_id=public_id)
        return Response(TrunkSerializer(trunk).data)
