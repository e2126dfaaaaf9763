"""The emulator's routes, relative to Twilio's API root (mounted at /sandbox/ in telephony.urls,
and resolved directly by the in-process client)."""
from django.urls import path, re_path

from sandbox import views

ACCOUNT = "2010-04-01/Accounts/<str:account_sid>"

urlpatterns = [
    path(f"{ACCOUNT}.json", views.account_detail, name="sandbox-account"),
    re_path(r"^2010-04-01/Accounts/(?P<account_sid>[^/]+)/AvailablePhoneNumbers/(?P<country>[A-Za-z]{2})/"
            r"(?P<kind>Local|TollFree|Mobile)\.json$", views.available_numbers, name="sandbox-available-numbers"),
    path(f"{ACCOUNT}/IncomingPhoneNumbers.json", views.incoming_numbers, name="sandbox-incoming-numbers"),
    path(f"{ACCOUNT}/IncomingPhoneNumbers/<str:sid>.json", views.incoming_number, name="sandbox-incoming-number"),
    path(f"{ACCOUNT}/Messages.json", views.messages, name="sandbox-messages"),
    path(f"{ACCOUNT}/Calls.json", views.calls, name="sandbox-calls"),
]
