"""The emulator's routes, relative to Twilio's API root (mounted at /sandbox/ in config.urls,
and resolved directly by the in-process client)."""
from django.urls import path, re_path

from sandbox import messaging, views

ACCOUNT = "2010-04-01/Accounts/<str:account_sid>"

urlpatterns = [
    path(f"{ACCOUNT}.json", views.account_detail, name="sandbox-account"),
    re_path(r"^2010-04-01/Accounts/(?P<account_sid>[^/]+)/AvailablePhoneNumbers/(?P<country>[A-Za-z]{2})/"
            r"(?P<kind>Local|TollFree|Mobile)\.json$", views.available_numbers, name="sandbox-available-numbers"),
    path(f"{ACCOUNT}/IncomingPhoneNumbers.json", views.incoming_numbers, name="sandbox-incoming-numbers"),
    path(f"{ACCOUNT}/IncomingPhoneNumbers/<str:sid>.json", views.incoming_number, name="sandbox-incoming-number"),
    path(f"{ACCOUNT}/Messages.json", views.messages, name="sandbox-messages"),
    path(f"{ACCOUNT}/Calls.json", views.calls, name="sandbox-calls"),
    path(f"{ACCOUNT}/Calls/<str:call_sid>/Recordings/<str:recording_sid>.json", views.call_recording,
         name="sandbox-call-recording"),
    # messaging.twilio.com (Messaging API v1)
    path("v1/Services", messaging.services_list, name="sandbox-messaging-services"),
    path("v1/Services/<str:service_sid>/PhoneNumbers", messaging.service_numbers,
         name="sandbox-messaging-service-numbers"),
    path("v1/Services/<str:service_sid>/Compliance/Usa2p", messaging.service_campaigns,
         name="sandbox-messaging-service-campaigns"),
]
