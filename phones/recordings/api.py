"""Recordings API: the org's call recordings and their transcriptions, the signed link that plays
one, deleting one (at the provider too), and the org's retention.

Members read; admins and owners delete and set the retention. The audio stays at the provider:
`GET /recordings/{id}` gives a short-lived signed `mediaUrl` (phones.recordings.signing) that a
browser's <audio> plays with no token; `GET /recordings/{id}/media` checks the signature before
anything else (403, nothing fetched, when it is wrong or expired), then streams the audio from the
provider's own API with the recording's connection (phones.recordings.media).
"""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.openapi import errors
from core.pagination import page_body, page_query, page_schema
from core.serializers import ErrorSerializer
from orgs.models import Membership
from orgs.scoping import OrgScopedAPIView
from phones.recordings import media, selectors, services, signing
from phones.recordings.serializers import (
    RecordingDetailSerializer,
    RecordingQuerySerializer,
    RecordingSerializer,
    RecordingSettingsSerializer,
)

ADMIN = Membership.Role.ADMIN


class RecordingListView(OrgScopedAPIView):
    @extend_schema(operation_id="recordings_list", tags=["recordings"], parameters=[RecordingQuerySerializer],
                   responses={200: page_schema(RecordingSerializer, "RecordingPage"), **errors(400)},
                   description="The org's call recordings, newest first, with their transcriptions: filtered by "
                               "number (`phoneNumberId`), call (`callId`) and creation time "
                               "(`createdAfter` ≤ t < `createdBefore`). The audio stays at the provider: "
                               "`GET /recordings/{id}` gives a signed link to play it.")
    def get(self, request):
        q = page_query(request, RecordingQuerySerializer)
        found, total = selectors.recording_list(
            org=self.org, phone_number_id=q.get("phoneNumberId"), call_id=q.get("callId"),
            created_after=q.get("createdAfter"), created_before=q.get("createdBefore"),
            limit=q["limit"], offset=q["offset"])
        return Response(page_body(RecordingSerializer(found, many=True).data, total=total, query=q))


class RecordingSettingsView(OrgScopedAPIView):
    roles = {"PUT": ADMIN}

    @extend_schema(operation_id="recordings_settings_get", tags=["recordings"],
                   responses={200: RecordingSettingsSerializer, **errors()},
                   description="The org's recording retention.")
    def get(self, request):
        return Response({"retentionDays": self.org.recording_retention_days})

    @extend_schema(operation_id="recordings_settings_update", tags=["recordings"],
                   request=RecordingSettingsSerializer, responses={200: RecordingSettingsSerializer, **errors(400)},
                   description="Set the retention: recordings older than `retentionDays` (1–3650) are deleted at "
                               "the provider and here by a periodic task (hourly by default); `null` keeps them "
                               "until deleted. Owners and admins.")
    def put(self, request):
        body = RecordingSettingsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        org = services.recording_retention_update(org=self.org, days=body.validated_data["retentionDays"],
                                                  actor=request.user)
        return Response({"retentionDays": org.recording_retention_days})


class RecordingDetailView(OrgScopedAPIView):
    roles = {"DELETE": ADMIN}

    @extend_schema(operation_id="recordings_get", tags=["recordings"],
                   responses={200: RecordingDetailSerializer, **errors(404)},
                   description="One recording with its transcription and a signed `mediaUrl` that streams the "
                               "audio without a token until `mediaUrlExpiresAt` (RECORDING_URL_TTL seconds, "
                               "default 600). Ask again for a fresh link.")
    def get(self, request, public_id: str):
        recording = selectors.recording_get(org=self.org, public_id=public_id)
        return Response(RecordingDetailSerializer(
            recording, context={"media": signing.media_url(recording.public_id)}).data)

    @extend_schema(operation_id="recordings_delete", tags=["recordings"],
                   responses={204: None, **errors(404, 409, 422, 502, 503)},
                   description="Delete the recording at the provider (its audio and transcription), then here. "
                               "When the provider cannot be reached or refuses, nothing is deleted here: the "
                               "answer says why (502/503/422; the recording's `deleteError` keeps it) and the "
                               "request can be repeated. A recording the provider no longer has is deleted here. "
                               "409: its provider connection is gone. Owners and admins.")
    def delete(self, request, public_id: str):
        recording = selectors.recording_get(org=self.org, public_id=public_id)
        services.recording_delete(recording=recording, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RecordingMediaView(APIView):
    """The signed link: no token (a browser's <audio> sends none); the signature is the authorisation."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]  # errors only: the audio is streamed as the provider sends it

    def perform_content_negotiation(self, request, force=False):
        # An <audio> element asks for audio/*: errors are JSON whatever it accepts.
        return JSONRenderer(), JSONRenderer.media_type

    @extend_schema(
        operation_id="recordings_media", tags=["recordings"], auth=[],
        parameters=[OpenApiParameter("expires", OpenApiTypes.STR, required=True, description="From mediaUrl."),
                    OpenApiParameter("signature", OpenApiTypes.STR, required=True, description="From mediaUrl."),
                    OpenApiParameter("Range", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
                                     description="A byte range (`bytes=0-1023`), passed on to the provider.")],
        responses={
            (200, "audio/mpeg"): OpenApiResponse(OpenApiTypes.BINARY, description="The whole recording"),
            (206, "audio/mpeg"): OpenApiResponse(OpenApiTypes.BINARY, description="The asked-for byte range"),
            403: OpenApiResponse(ErrorSerializer, description="Missing, altered or expired signature: nothing "
                                                              "was fetched"),
            404: OpenApiResponse(ErrorSerializer, description="No such recording, or the provider no longer "
                                                              "has its audio"),
            416: OpenApiResponse(description="The range is past the end of the recording"),
            409: OpenApiResponse(ErrorSerializer, description="Its provider connection is gone"),
            422: OpenApiResponse(ErrorSerializer, description="The provider cannot serve recordings"),
            502: OpenApiResponse(ErrorSerializer, description="The provider answered badly"),
            503: OpenApiResponse(ErrorSerializer, description="The provider is unreachable"),
        },
        description="The recording's audio (MP3), streamed from the provider with the recording's connection "
                    "(never buffered whole), `Range` passed on so a player can seek (206, Content-Range, "
                    "Accept-Ranges). Use the `mediaUrl` of `GET /recordings/{id}`: this URL needs no token, "
                    "its signature (HMAC of the id and `expires`) is checked before anything is fetched.")
    def get(self, request, public_id: str):
        expires = request.query_params.get("expires", "")
        signing.check(public_id, expires, request.query_params.get("signature", ""))
        return media.stream_response(request, public_id, expires=int(expires))
