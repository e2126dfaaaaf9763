"""Routing, ring groups, outbound calls and the softphone; included at the root by config.urls.

GET/PUT `phone/numbers/<id>/routing` is `RoutingView`; it shares its path with the mode switch
(POST), which phones.numbers.urls serves with a view derived from it.
"""
from django.urls import path

from phones.calls import api

urlpatterns = [
    path("phone/groups", api.RingGroupListView.as_view(), name="phone-groups"),
    path("phone/groups/<str:public_id>", api.RingGroupDetailView.as_view(), name="phone-group"),
    path("calls/make-call", api.MakeCallView.as_view(), name="calls-make-call"),
    path("calls/<str:public_id>", api.CallDetailView.as_view(), name="call-detail"),
    path("phone/numbers/<str:public_id>/calls", api.NumberCallsView.as_view(), name="phone-number-calls"),
    path("phone/softphone/token", api.SoftphoneTokenView.as_view(), name="softphone-token"),
    path("phone/softphone/presence", api.PresenceView.as_view(), name="softphone-presence"),
    path("phone/softphone/settings", api.SoftphoneSettingsView.as_view(), name="softphone-settings"),
]
