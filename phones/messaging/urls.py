"""Texts: sending, the inbox, a number's messages and SMS rules, the org's messaging settings;
included at the root by config.urls."""
from django.urls import path

from phones.messaging import api

urlpatterns = [
    path("messages/send-sms", api.SendSmsView.as_view(), name="messages-send-sms"),
    path("inbox/conversations", api.ConversationListView.as_view(), name="inbox-conversations"),
    path("inbox/conversations/<str:public_id>/messages", api.ConversationMessagesView.as_view(),
         name="inbox-conversation-messages"),
    path("messaging/settings", api.MessagingSettingsView.as_view(), name="messaging-settings"),
    path("phone/numbers/<str:public_id>/messages", api.MessagesView.as_view(), name="phone-messages"),
    path("phone/numbers/<str:public_id>/sms-rules", api.SmsRulesView.as_view(), name="phone-sms-rules"),
]
