from __future__ import annotations

from datetime import date

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from billing import selectors
from billing.serializers import (
    BalanceSerializer,
    LedgerEntrySerializer,
    PriceQuerySerializer,
    PriceSerializer,
    UsageQuerySerializer,
    UsageSerializer,
)
from core.openapi import errors
from core.pagination import PageQuerySerializer, page_body, page_query, page_response, page_schema
from orgs.models import Membership
from orgs.scoping import OrgScopedAPIView


class BalanceView(OrgScopedAPIView):
    roles = {"GET": Membership.Role.ADMIN}

    @extend_schema(operation_id="billing_balance", tags=["billing"],
                   responses={200: BalanceSerializer, **errors()},
                   description="The org's balance (minor units) and the monthly cost it has committed to. "
                               "Owners and admins only. Top-ups are a staff action: there is no self-service.")
    def get(self, request):
        return Response(BalanceSerializer(selectors.balance_summary(org=self.org)).data)


class LedgerView(OrgScopedAPIView):
    roles = {"GET": Membership.Role.ADMIN}

    @extend_schema(operation_id="billing_ledger", tags=["billing"], parameters=[PageQuerySerializer],
                   responses={200: page_schema(LedgerEntrySerializer, "LedgerPage"), **errors(400)},
                   description="The org's ledger, newest first: every charge, refund, reversal and top-up, with "
                               "the balance after it. Owners and admins only.")
    def get(self, request):
        q = page_query(request)
        entries, total = selectors.ledger_list(org=self.org, limit=q["limit"], offset=q["offset"])
        return Response(page_body(LedgerEntrySerializer(entries, many=True).data, total=total, query=q))


class UsageView(OrgScopedAPIView):
    roles = {"GET": Membership.Role.ADMIN}

    @extend_schema(operation_id="billing_usage", tags=["billing"], parameters=[UsageQuerySerializer],
                   responses={200: UsageSerializer, **errors(400)},
                   description="Traffic of one tracking campaign: every message and call of a number whose "
                               "configuration.tracking names `campaignId` is stamped with it when sent or "
                               "received. Owners and admins only.")
    def get(self, request):
        query = UsageQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        q = query.validated_data
        period = date.fromisoformat(f"{q['period']}-01") if q.get("period") else None
        usage = selectors.usage_by_campaign(org=self.org, campaign_id=q["campaignId"], period=period)
        return Response(UsageSerializer({**usage, "period": q.get("period")}).data)


class PriceListView(OrgScopedAPIView):
    @extend_schema(operation_id="billing_prices", tags=["billing"], parameters=[PriceQuerySerializer],
                   responses={200: page_schema(PriceSerializer, "PriceList"), **errors(400)},
                   description="Setup and monthly fee (minor units) per country and number type.")
    def get(self, request):
        query = page_query(request, PriceQuerySerializer)
        prices = selectors.price_list(country=query.get("country"), number_type=query.get("type"))
        return page_response(prices, PriceSerializer, query)
