from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from core.openapi import errors
from orgs import services
from orgs.models import Membership, ProviderConnection
from orgs.scoping import OrgScopedAPIView, for_org, get_for_org
from orgs.serializers import ConnectionCreateSerializer, ConnectionSerializer, ConnectionUpdateSerializer


class ConnectionListView(OrgScopedAPIView):
    roles = {"POST": Membership.Role.OWNER}

    @extend_schema(operation_id="integrations_list", responses={200: ConnectionSerializer(many=True), **errors()},
                   tags=["integrations"])
    def get(self, request):
        connections = for_org(ProviderConnection.objects.filter(is_active=True), self.org)
        return Response({"data": ConnectionSerializer(connections, many=True).data})

    @extend_schema(operation_id="integrations_create", request=ConnectionCreateSerializer,
                   responses={201: ConnectionSerializer, **errors(400, 502, 503)}, tags=["integrations"],
                   description="Save a provider connection. Credentials are checked with the provider first; "
                               "bad credentials are a 400 and nothing is saved. A `sandbox-provider` with no "
                               "credentials gets a new sandbox account.")
    def post(self, request):
        serializer = ConnectionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        connection = services.connection_create(org=self.org, type_=data["type"], name=data["name"],
                                                credentials=data["credentials"], public_config=data["publicConfig"])
        return Response(ConnectionSerializer(connection).data, status=status.HTTP_201_CREATED)


class ConnectionDetailView(OrgScopedAPIView):
    roles = {"PUT": Membership.Role.OWNER, "DELETE": Membership.Role.OWNER}

    def get_object(self, public_id: str) -> ProviderConnection:
        return get_for_org(ProviderConnection.objects.filter(is_active=True), self.org, public_id=public_id)

    @extend_schema(operation_id="integrations_get", responses={200: ConnectionSerializer, **errors(404)},
                   tags=["integrations"])
    def get(self, request, public_id: str):
        return Response(ConnectionSerializer(self.get_object(public_id)).data)

    @extend_schema(operation_id="integrations_update", request=ConnectionUpdateSerializer,
                   responses={200: ConnectionSerializer, **errors(400, 404, 409, 502, 503)}, tags=["integrations"],
                   description="Partial update. New credentials are merged over the stored ones and checked "
                               "with the provider before saving.")
    def put(self, request, public_id: str):
        connection = self.get_object(public_id)
        serializer = ConnectionUpdateSerializer(data=request.data, context={"connection": connection})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        connection = services.connection_update(connection=connection, name=data.get("name"),
                                                credentials=data.get("credentials"),
                                                public_config=data.get("publicConfig"))
        return Response(ConnectionSerializer(connection).data)

    @extend_schema(operation_id="integrations_delete", responses={204: None, **errors(404, 409)},
                   tags=["integrations"])
    def delete(self, request, public_id: str):
        services.connection_delete(connection=self.get_object(public_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
