"""000 and 001, the AppEngine documents, at their own paths: the upstream connector's
save-integration, send-sms and make-call, the CRM inbox, and 001's name for the purchase.

Each is the feature's own view (same body, service and answer) under the document's path and
its own operation id; nothing here decides anything."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view

from orgs.api import ConnectionListView
from phones.calls.api import MakeCallView
from phones.messaging.api import ConversationListView, SendSmsView
from phones.numbers.api import NumbersView

TAG = "compat: 000/001 AppEngine"


@extend_schema_view(post=extend_schema(
    operation_id="compat_001_upstream_save_integration", tags=[TAG],
    description="001's `save-integration`: POST /integrations (type `twilio-provider`, `name`, `credentials`, "
                "`publicConfig`); credentials are checked with the provider first, bad ones are a 400 and "
                "nothing is saved."))
class SaveIntegrationView(ConnectionListView):
    http_method_names = ["post", "options"]


@extend_schema_view(post=extend_schema(
    operation_id="compat_001_upstream_send_sms", tags=[TAG],
    description="001's upstream send-sms (`to`, `body`, `mediaUrl`): POST /messages/send-sms."))
class UpstreamSendSmsView(SendSmsView):
    pass


@extend_schema_view(post=extend_schema(
    operation_id="compat_001_upstream_make_call", tags=[TAG],
    description="001's upstream make-call (`from`, `to`, `twimlUrl`): POST /calls/make-call."))
class UpstreamMakeCallView(MakeCallView):
    pass


@extend_schema_view(get=extend_schema(operation_id="compat_001_crm_inbox_conversations", tags=[TAG],
                                      description="001's CRM inbox: GET /inbox/conversations."))
class CrmConversationsView(ConversationListView):
    pass


@extend_schema_view(post=extend_schema(
    operation_id="compat_001_phone_numbers_purchase", tags=[TAG],
    description="001's name for POST /phone/numbers: the same body, service and answer."))
class PurchaseView(NumbersView):
    http_method_names = ["post", "options"]
