from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from phones import selectors
from phones.serializers import AvailableQuerySerializer, AvailableResponseSerializer
from telephony.openapi import errors
from telephony.providers.base import SearchCriteria
from telephony.scoping import OrgScopedAPIView


class AvailableNumbersView(OrgScopedAPIView):
    @extend_schema(
        operation_id="phone_available", tags=["phone"], parameters=[AvailableQuerySerializer],
        responses={200: AvailableResponseSerializer, **errors(400, 502, 503)},
        description="Search the connected provider's inventory. Each number carries its price here "
                    "(setup and monthly, minor units). Without a connection: 400 `provider_not_configured`.",
    )
    def get(self, request):
        query = AvailableQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        q = query.validated_data
        criteria = SearchCriteria(
            country=q["countryCode"], number_type=q["type"], area_code=q.get("areaCode"), region=q.get("region"),
            contains=q.get("contains"), sms_enabled=q["smsEnabled"], voice_enabled=q["voiceEnabled"],
            mms_enabled=q["mmsEnabled"], limit=q["limit"],
        )
        numbers = selectors.available_numbers(org=self.org, criteria=criteria)
        return Response({"numbers": numbers, "totalFound": len(numbers)})
