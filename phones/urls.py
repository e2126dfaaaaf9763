from django.urls import path

from phones import api

urlpatterns = [
    path("phone/available", api.AvailableNumbersView.as_view(), name="phone-available"),
]
