from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from core.openapi import errors, patch_like_put
from core.pagination import PageQuerySerializer, page_query, page_response, page_schema
from orgs import services
from orgs.authentication import api_key_of
from orgs.models import Membership, OrgAPIKey, ProviderConnection
from orgs.scoping import OrgScopedAPIView, for_org, get_for_org
from orgs.serializers import (
    APIKeyCreatedSerializer,
    APIKeyCreateSerializer,
    APIKeySerializer,
    ConnectionCreateSerializer,
    ConnectionSerializer,
    ConnectionUpdateSerializer,
)


class ConnectionListView(OrgScopedAPIView):
    roles = {"POST": Membership.Role.OWNER}

    @extend_schema(operation_id="integrations_list", tags=["integrations"],
                   parameters=[PageQuerySerializer],
                   responses={200: page_schema(ConnectionSerializer, "ConnectionList"), **errors()})
    def get(self, request):
        connections = for_org(ProviderConnection.objects.filter(is_active=True), self.org)
        return page_response(connections, ConnectionSerializer, page_query(request))

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

    patch = patch_like_put(put, "integrations_patch")

    @extend_schema(operation_id="integrations_delete", responses={204: None, **errors(404, 409)},
                   tags=["integrations"])
    def delete(self, request, public_id: str):
        services.connection_delete(connection=self.get_object(public_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class APIKeyManagement(OrgScopedAPIView):
    """Owners manage the org's API keys, signed in as themselves: a key cannot mint or revoke keys."""

    roles = {"GET": Membership.Role.OWNER, "POST": Membership.Role.OWNER, "DELETE": Membership.Role.OWNER}
    api_key_allowed = False

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        if api_key_of(request) is not None:
            raise exceptions.PermissionDenied("API keys are managed by an owner signed in, not with an API key")


class APIKeyListView(APIKeyManagement):
    @extend_schema(operation_id="api_keys_list", parameters=[PageQuerySerializer],
                   responses={200: page_schema(APIKeySerializer, "APIKeyList"), **errors()},
                   tags=["api-keys"], description="The org's API keys that are not revoked (never the keys "
                                                  "themselves).")
    def get(self, request):
        keys = for_org(OrgAPIKey.objects.filter(revoked=False).select_related("created_by"), self.org)
        return page_response(keys, APIKeySerializer, page_query(request))

    @extend_schema(operation_id="api_keys_create", request=APIKeyCreateSerializer,
                   responses={201: APIKeyCreatedSerializer, **errors(400)}, tags=["api-keys"],
                   description="A new key acting in this org with `role`. The response is the only time `key` "
                               "is shown; it is stored hashed. Send it as `Authorization: Bearer <key>`.")
    def post(self, request):
        serializer = APIKeyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        api_key, plaintext = services.api_key_create(org=self.org, name=serializer.validated_data["name"],
                                                     role=serializer.validated_data["role"], actor=request.user)
        api_key.key = plaintext
        return Response(APIKeyCreatedSerializer(api_key).data, status=status.HTTP_201_CREATED)


class APIKeyDetailView(APIKeyManagement):
    @extend_schema(operation_id="api_keys_revoke", responses={204: None, **errors(404)}, tags=["api-keys"],
                   description="Revoke a key: its next request is a 401. Cannot be undone.")
    def delete(self, request, public_id: str):
        api_key = get_for_org(OrgAPIKey.objects.filter(revoked=False), self.org, public_id=public_id)
        services.api_key_revoke(api_key=api_key, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
