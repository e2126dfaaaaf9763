"""Traffic URLs (outbound SMS and calls, the inbox, the softphone, the sandbox's simulate page),
included at the root."""
from django.urls import path

from phones.messaging import api as api_traffic
from sandbox.simulate import simulate_view

urlpatterns = [
    path("messages/send-sms", api_traffic.SendSmsView.as_view(), name="messages-send-sms"),
    path("calls/make-call", api_traffic.MakeCallView.as_view(), name="calls-make-call"),
    path("inbox/conversations", api_traffic.ConversationListView.as_view(), name="inbox-conversations"),
    path("inbox/conversations/<str:public_id>/messages", api_traffic.ConversationMessagesView.as_view(),
         name="inbox-conversation-messages"),
    path("messaging/settings", api_traffic.MessagingSettingsView.as_view(), name="messaging-settings"),
    path("phone/softphone/token", api_traffic.SoftphoneTokenView.as_view(), name="softphone-token"),
    path("phone/softphone/presence", api_traffic.PresenceView.as_view(), name="softphone-presence"),
    # Staff page of the sandbox (its own urls are the Twilio API it emulates).
    path("sandbox/simulate", simulate_view, name="sandbox-simulate"),
]
