"""Routing URLs, included at the root (config.urls: `path("", include("phones.calls.urls"))`).

GET/PUT `phone/numbers/<id>/routing` is `api_routing.RoutingView`; it shares its path with the
mode switch (POST), which phones.numbers.urls serves with a view derived from it.
"""
from django.urls import path

from phones.calls import api as api_routing

urlpatterns = [
    path("phone/numbers/<str:public_id>/sms-rules", api_routing.SmsRulesView.as_view(), name="phone-sms-rules"),
    path("phone/groups", api_routing.RingGroupListView.as_view(), name="phone-groups"),
    path("phone/groups/<str:public_id>", api_routing.RingGroupDetailView.as_view(), name="phone-group"),
]
