"""000 and 001, the AppEngine documents: 001 names the purchase `POST /phone/numbers/purchase`.

It is `POST /phone/numbers` (the same view, body and answer) under 001's path."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema

from phones.numbers.api import NumbersView

TAG = "compat: 000/001 AppEngine"


@extend_schema(tags=[TAG])
class PurchaseView(NumbersView):
    http_method_names = ["post", "options"]

    @extend_schema(operation_id="compat_001_phone_numbers_purchase", tags=[TAG],
                   description="001's name for POST /phone/numbers: the same body, service and answer.")
    def post(self, request):
        return super().post(request)
