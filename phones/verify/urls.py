from django.urls import path

from phones.verify import api

urlpatterns = [
    path("phone/verify", api.VerifyView.as_view(), name="phone-verify"),
    path("phone/verify/report", api.VerifyReportView.as_view(), name="phone-verify-report"),
]
