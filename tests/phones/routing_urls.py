"""Test URLconf: the project's URLs with the routing ones, until telephony.urls includes them.

The routing path goes first because phones.urls serves only its POST (mode switch) for now.
"""
from django.urls import include, path

from phones import api_routing

urlpatterns = [
    path("phone/numbers/<str:public_id>/routing", api_routing.RoutingView.as_view(), name="phone-routing-doc"),
    path("", include("phones.urls_routing")),
    path("", include("telephony.urls")),
]
