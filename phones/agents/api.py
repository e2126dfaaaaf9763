"""/agents: the org's AI agents."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.response import Response

from core.openapi import errors, patch_like_put
from core.pagination import PageQuerySerializer, page_query, page_response, page_schema
from orgs.scoping import OrgScopedAPIView, for_org, get_for_org
from phones.agents import services
from phones.agents.serializers import (
    AgentSerializer,
    AgentWriteSerializer,
)
from phones.models import Agent

EXAMPLE_AGENT = {
    "name": "Front desk", "instructions": "You answer calls for Acme Dental. Be brief and friendly.",
    "greeting": "Hello, Acme Dental, how can I help?", "voice": "alloy", "model": "gpt-realtime", "language": "en",
    "tools": ["transfer", "send_sms", "end_call"],
    "transferTargets": {"sales": "+14155550100", "support": "queue:support"},
    "maxCallSeconds": 600, "connectionId": "int_…",
}


def _agents(org):
    return for_org(Agent.objects.select_related("connection"), org)


class AgentListView(OrgScopedAPIView):
    @extend_schema(operation_id="agents_list", tags=["agents"], parameters=[PageQuerySerializer],
                   responses={200: page_schema(AgentSerializer, "AgentPage"), **errors(400)},
                   description="The org's AI agents, newest first.")
    def get(self, request):
        return page_response(_agents(self.org), AgentSerializer, page_query(request))

    @extend_schema(operation_id="agents_create", tags=["agents"], request=AgentWriteSerializer,
                   responses={201: AgentSerializer, **errors(400)},
                   examples=[OpenApiExample("An agent", value=EXAMPLE_AGENT, request_only=True)],
                   description="An AI agent. Attach numbers to it with `agentId` (POST /phone/numbers, PUT "
                               "/phone/numbers/{id}): their calls are streamed to our media gateway and answered "
                               "by the agent's realtime AI, their texts answered by it too. `connectionId` is one "
                               "of the org's AI connections (/integrations, type openai-realtime or sandbox-ai).")
    def post(self, request):
        body = AgentWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        agent = services.agent_create(org=self.org, actor=request.user, data=body.validated_data)
        return Response(AgentSerializer(agent).data, status=status.HTTP_201_CREATED)


class AgentDetailView(OrgScopedAPIView):
    @extend_schema(operation_id="agents_get", tags=["agents"], responses={200: AgentSerializer, **errors(404)})
    def get(self, request, public_id: str):
        return Response(AgentSerializer(get_for_org(_agents(self.org), self.org, public_id=public_id)).data)

    @extend_schema(operation_id="agents_update", tags=["agents"], request=AgentWriteSerializer(partial=True),
                   responses={200: AgentSerializer, **errors(400, 404)},
                   description="Partial: only the fields given change (the agent is checked whole). Calls already "
                               "in progress keep the settings they started with.")
    def put(self, request, public_id: str):
        agent = get_for_org(_agents(self.org), self.org, public_id=public_id)
        body = AgentWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        agent = services.agent_update(agent=agent, actor=request.user, data=body.validated_data)
        return Response(AgentSerializer(agent).data)

    patch = patch_like_put(put, "agents_patch")

    @extend_schema(operation_id="agents_delete", tags=["agents"], responses={204: None, **errors(404)},
                   description="Deletes the agent. Its numbers are detached (agentId becomes null) and answer as "
                               "they did before: their voice routing or IVR, their SMS rules. Its calls keep their "
                               "transcripts.")
    def delete(self, request, public_id: str):
        services.agent_delete(agent=get_for_org(_agents(self.org), self.org, public_id=public_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
