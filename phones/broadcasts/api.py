"""Broadcasts API: create (checked, priced and held at once), list, one with its progress, its
recipients, pause/resume/cancel. Admins and owners: a broadcast spends the org's balance."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.response import Response

from core.openapi import errors
from core.pagination import PageQuerySerializer, page_body, page_query, page_schema
from orgs.scoping import OrgScopedAPIView, get_for_org
from phones.broadcasts import selectors, services
from phones.broadcasts.models import Broadcast
from phones.broadcasts.serializers import (
    BroadcastCreateSerializer,
    BroadcastListItemSerializer,
    BroadcastSerializer,
    RecipientSerializer,
    RecipientsQuerySerializer,
)

EXAMPLE = {"name": "Spring sale", "body": "Hi {{firstName}}, 20% off this weekend at Acme.",
           "from": ["+14155550100"],
           "recipients": [{"phone": "+14155550123", "variables": {"firstName": "Ann"}}, {"phone": "415 555 0124"}],
           "quietHours": {"start": "09:00", "end": "20:00"}}


def _detail(broadcast: Broadcast) -> dict:
    return BroadcastSerializer(broadcast, context={"stats": selectors.broadcast_stats(broadcast)}).data


class BroadcastsView(OrgScopedAPIView):
    @extend_schema(operation_id="broadcasts_list", tags=["broadcasts"], parameters=[PageQuerySerializer],
                   responses={200: page_schema(BroadcastListItemSerializer, "BroadcastPage"), **errors(400)},
                   description="Newest first.")
    def get(self, request):
        q = page_query(request)
        page, total = selectors.broadcast_list(org=self.org, limit=q["limit"], offset=q["offset"])
        return Response(page_body(BroadcastListItemSerializer(page, many=True).data, total=total, query=q))

    @extend_schema(
        operation_id="broadcasts_create", tags=["broadcasts"], request=BroadcastCreateSerializer,
        responses={201: BroadcastSerializer, **errors(400, 402)},
        examples=[OpenApiExample("inline recipients", value=EXAMPLE, request_only=True)],
        description="Every recipient is parsed to E.164 (bad rows reported with their row number in "
                    "`checks.invalidRows`, duplicates merged), the opted-out removed and counted, segments counted "
                    "(GSM-7 or UCS-2: `segments.nonGsmCharacter` names the character that made it UCS-2), "
                    "\"Reply STOP to opt out.\" appended for US and Canadian recipients when the body has no opt-out "
                    "language, and the estimate (segments × price) held from the balance: 402 when it is short, "
                    "nothing saved. The hold is settled to what was sent when the broadcast ends. Each sender is "
                    "throttled to its rate (long code 1/s, toll-free 3/s, a messaging service its configured rate); "
                    "recipients are texted inside quietHours in their own time zone (default 09:00–20:00, within "
                    "08:00–21:00).")
    def post(self, request):
        body = BroadcastCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        quiet = d.get("quietHours") or {}
        broadcast = services.broadcast_create(
            org=self.org, name=d["name"], body=d["body"], media_urls=d["mediaUrl"], numbers=d["from"],
            messaging_service=d["messagingService"],
            inline=[dict(r) for r in d["recipients"]] if d.get("recipients") is not None else None,
            csv_text=d.get("csv"), tag=d.get("tag"), scheduled_at=d["scheduledAt"],
            quiet_start=quiet.get("start", services.quiet_hours.DEFAULT_START),
            quiet_end=quiet.get("end", services.quiet_hours.DEFAULT_END),
            default_region=d["defaultRegion"], created_by=request.user)
        return Response(_detail(broadcast), status=201)


class BroadcastDetailView(OrgScopedAPIView):
    @extend_schema(operation_id="broadcasts_get", tags=["broadcasts"], responses={200: BroadcastSerializer,
                                                                                    **errors(404)},
                   description="Counts by status (and delivery, from the status callbacks), cost so far, progress: "
                               "poll it as a job.")
    def get(self, request, public_id: str):
        return Response(_detail(get_for_org(Broadcast.objects.all(), self.org, public_id=public_id)))


def _action_view(action: str, run, description: str) -> type[OrgScopedAPIView]:
    class ActionView(OrgScopedAPIView):
        @extend_schema(operation_id=f"broadcasts_{action}", tags=["broadcasts"], request=None,
                       responses={200: BroadcastSerializer, **errors(404, 409)}, description=description)
        def post(self, request, public_id: str):
            broadcast = get_for_org(Broadcast.objects.all(), self.org, public_id=public_id)
            return Response(_detail(run(broadcast=broadcast)))

    ActionView.__name__ = ActionView.__qualname__ = f"Broadcast{action.title()}View"
    return ActionView


BroadcastPauseView = _action_view("pause", services.broadcast_pause,
                                  "No recipient is claimed once it answers (a text at the provider finishes). "
                                  "409 when finished.")
BroadcastResumeView = _action_view("resume", services.broadcast_resume, "Sending goes on. 409 unless paused.")
BroadcastCancelView = _action_view("cancel", services.broadcast_cancel,
                                   "Nothing more is sent; the hold is settled to what was. 409 when finished.")


class BroadcastRecipientsView(OrgScopedAPIView):
    @extend_schema(operation_id="broadcasts_recipients", tags=["broadcasts"], parameters=[RecipientsQuerySerializer],
                   responses={200: page_schema(RecipientSerializer, "RecipientPage"), **errors(400, 404)},
                   description="By row; `status` filters. errorCode is the provider's (e.g. 21610 unsubscribed).")
    def get(self, request, public_id: str):
        broadcast = get_for_org(Broadcast.objects.all(), self.org, public_id=public_id)
        q = page_query(request, RecipientsQuerySerializer)
        page, total = selectors.recipient_list(broadcast=broadcast, status=q.get("status"), limit=q["limit"],
                                               offset=q["offset"])
        return Response(page_body(RecipientSerializer(page, many=True).data, total=total, query=q))
