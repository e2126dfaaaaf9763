"""The compatibility routes, mounted before the features' own (001's /phone/numbers/purchase would
otherwise match /phone/numbers/<id>)."""
from django.urls import path

from compat import addphone, agentphone, appengine, sipnumbers

urlpatterns = [
    path("api/upstream/save-integration", appengine.SaveIntegrationView.as_view(),
         name="compat-001-save-integration"),
    path("api/upstream/call/twilio-provider/send-sms", appengine.UpstreamSendSmsView.as_view(),
         name="compat-001-send-sms"),
    path("api/upstream/call/twilio-provider/make-call", appengine.UpstreamMakeCallView.as_view(),
         name="compat-001-make-call"),
    path("crm/inbox/conversations", appengine.CrmConversationsView.as_view(), name="compat-001-conversations"),
    path("phone/numbers/purchase", appengine.PurchaseView.as_view(), name="compat-001-purchase"),
    path("api/call/add-phone", addphone.AddPhoneView.as_view(), name="compat-004-add-phone"),
    path("api/v1/account/<str:accountId>/numbers/catalog", sipnumbers.CatalogView.as_view(),
         name="compat-002-catalog"),
    path("api/v1/account/<str:accountId>/numbers/purchase", sipnumbers.PurchaseView.as_view(),
         name="compat-002-purchase"),
    path("api/v1/account/<str:accountId>/numbers", sipnumbers.NumbersView.as_view(), name="compat-002-numbers"),
    path("api/v1/account/<str:accountId>/numbers/<str:id>", sipnumbers.NumberView.as_view(),
         name="compat-002-number"),
    path("v1/numbers", agentphone.NumbersView.as_view(), name="compat-003-numbers"),
    path("v1/numbers/<str:number_id>", agentphone.NumberView.as_view(), name="compat-003-number"),
    path("v1/numbers/<str:number_id>/messages", agentphone.NumberMessagesView.as_view(),
         name="compat-003-number-messages"),
]
