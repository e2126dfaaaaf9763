from django.urls import path

from phones.numbers import api

urlpatterns = [
    path("phone/available", api.AvailableNumbersView.as_view(), name="phone-available"),
    path("phone/numbers", api.NumbersView.as_view(), name="phone-numbers"),
    path("phone/numbers/add", api.NumberImportView.as_view(), name="phone-numbers-add"),
    path("phone/numbers/<str:public_id>", api.NumberDetailView.as_view(), name="phone-number"),
    path("phone/numbers/<str:public_id>/routing", api.RoutingModeView.as_view(), name="phone-routing"),
    path("phone/setup", api.SetupView.as_view(), name="phone-setup"),
    path("phone/system", api.SystemPhoneView.as_view(), name="phone-system"),
    path("jobs/<str:public_id>", api.JobDetailView.as_view(), name="job"),
]
