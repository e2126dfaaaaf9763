from django.urls import path

from phones.verify import api as api_verify

urlpatterns = [
    path("phone/verify", api_verify.VerifyView.as_view(), name="phone-verify"),
    path("phone/verify/report", api_verify.VerifyReportView.as_view(), name="phone-verify-report"),
]
