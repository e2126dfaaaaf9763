"""The emulator's routes, relative to Twilio's API root (mounted at /sandbox/ in config.urls,
and resolved directly by the in-process client). Anything else under it answers Twilio's 404."""
from django.urls import path, re_path

from sandbox import address_views, messaging, pricing, trunking, views

ACCOUNT = "2010-04-01/Accounts/<str:account_sid>"
KIND = r"(?P<kind>Local|TollFree|Mobile)"

urlpatterns = [
    path("2010-04-01/Accounts.json", views.accounts, name="sandbox-accounts"),
    path(f"{ACCOUNT}.json", views.account_detail, name="sandbox-account"),
    path(f"{ACCOUNT}/AvailablePhoneNumbers.json", views.available_countries, name="sandbox-available-countries"),
    re_path(r"^2010-04-01/Accounts/(?P<account_sid>[^/]+)/AvailablePhoneNumbers/(?P<country>[A-Za-z]{2})\.json$",
            views.available_country, name="sandbox-available-country"),
    re_path(r"^2010-04-01/Accounts/(?P<account_sid>[^/]+)/AvailablePhoneNumbers/(?P<country>[A-Za-z]{2})/"
            r"(?P<kind>[A-Za-z]+)\.json$", views.available_numbers, name="sandbox-available-numbers"),
    path(f"{ACCOUNT}/IncomingPhoneNumbers.json", views.incoming_numbers, name="sandbox-incoming-numbers"),
    re_path(rf"^2010-04-01/Accounts/(?P<account_sid>[^/]+)/IncomingPhoneNumbers/{KIND}\.json$",
            views.incoming_numbers_of_kind, name="sandbox-incoming-numbers-of-kind"),
    path(f"{ACCOUNT}/IncomingPhoneNumbers/<str:sid>.json", views.incoming_number, name="sandbox-incoming-number"),
    path(f"{ACCOUNT}/Addresses.json", address_views.addresses, name="sandbox-addresses"),
    path(f"{ACCOUNT}/Addresses/<str:sid>.json", address_views.address, name="sandbox-address"),
    path(f"{ACCOUNT}/Messages.json", views.messages, name="sandbox-messages"),
    path(f"{ACCOUNT}/Messages/<str:sid>.json", views.message, name="sandbox-message"),
    path(f"{ACCOUNT}/Calls.json", views.calls, name="sandbox-calls"),
    path(f"{ACCOUNT}/Calls/<str:sid>.json", views.call, name="sandbox-call"),
    path(f"{ACCOUNT}/Calls/<str:call_sid>/Recordings.json", views.call_recordings, name="sandbox-call-recordings"),
    path(f"{ACCOUNT}/Calls/<str:call_sid>/Recordings/<str:recording_sid>.json", views.call_recording,
         name="sandbox-call-recording"),
    path(f"{ACCOUNT}/Recordings.json", views.recordings, name="sandbox-recordings"),
    path(f"{ACCOUNT}/Recordings/<str:sid>.json", views.recording, name="sandbox-recording"),
    re_path(r"^2010-04-01/Accounts/(?P<account_sid>[^/]+)/Recordings/(?P<sid>RE[0-9a-fA-F]{32})(?P<extension>"
            r"\.wav|\.mp3)?$", views.recording_media, name="sandbox-recording-media"),
    # messaging.twilio.com (Messaging API v1)
    path("v1/Services", messaging.services_list, name="sandbox-messaging-services"),
    path("v1/Services/<str:service_sid>/PhoneNumbers", messaging.service_numbers,
         name="sandbox-messaging-service-numbers"),
    path("v1/Services/<str:service_sid>/Compliance/Usa2p", messaging.service_campaigns,
         name="sandbox-messaging-service-campaigns"),
    # trunking.twilio.com (Elastic SIP Trunking v1)
    path("v1/Trunks", trunking.trunks_list, name="sandbox-trunks"),
    path("v1/Trunks/<str:sid>", trunking.trunk_detail, name="sandbox-trunk"),
    path("v1/Trunks/<str:trunk_sid>/OriginationUrls", trunking.origination_urls, name="sandbox-trunk-origination-urls"),
    path("v1/Trunks/<str:trunk_sid>/PhoneNumbers", trunking.trunk_numbers, name="sandbox-trunk-numbers"),
    path("v1/Trunks/<str:trunk_sid>/PhoneNumbers/<str:sid>", trunking.trunk_number, name="sandbox-trunk-number"),
    # pricing.twilio.com (Pricing API v1: number prices by country)
    path("v1/PhoneNumbers/Countries", pricing.countries, name="sandbox-pricing-countries"),
    path("v1/PhoneNumbers/Countries/<str:iso_country>", pricing.country, name="sandbox-pricing-country"),
    re_path(r"^(?P<rest>.*)$", views.unknown, name="sandbox-unknown"),
]
