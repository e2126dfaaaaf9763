from django.urls import path

from billing import api

urlpatterns = [
    path("billing/balance", api.BalanceView.as_view(), name="billing-balance"),
    path("billing/ledger", api.LedgerView.as_view(), name="billing-ledger"),
    path("billing/usage", api.UsageView.as_view(), name="billing-usage"),
    path("billing/prices", api.PriceListView.as_view(), name="billing-prices"),
]
