from __future__ import annotations

from datetime import date

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from billing import selectors
from billing.serializers import (
    BalanceSerializer,
    LedgerEntrySerializer,
    LedgerPageSerializer,
    LedgerQuerySerializer,
    PriceListSerializer,
    PriceQuerySerializer,
    PriceSerializer,
    UsageQuerySerializer,
    UsageSerializer,
)
from core.openapi import errors
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

    @extend_schema(operation_id="billing_ledger", tags=["billing"], parameters=[LedgerQuerySerializer],
                   responses={200: LedgerPageSerializer, **errors(400)},
                   description="The org's ledger, newest first: every charge, refund, reversal and top-up, with "
                               "the balance after it. Owners and admins only.")
    def get(self, request):
        query = LedgerQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        limit, offset = query.validated_data["limit"], query.validated_data["offset"]
        entries, total = selectors.ledger_list(org=self.org, limit=limit, offset=offset)
        return Response({"data": LedgerEntrySerializer(entries, many=True).data, "total": total,
                         "limit": limit, "offset": offset})


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
                   responses={200: PriceListSerializer, **errors(400)},
                   description="Setup and monthly fee (minor units) per country and number type.")
    def get(self, request):
        query = PriceQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        prices = selectors.price_list(country=query.validated_data.get("country"),
                                      number_type=query.validated_data.get("type"))
        return Response({"data": PriceSerializer(prices, many=True).data})
