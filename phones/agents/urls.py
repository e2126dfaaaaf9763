from django.urls import path

from phones.agents import api

urlpatterns = [
    path("agents", api.AgentListView.as_view(), name="agents"),
    path("agents/<str:public_id>", api.AgentDetailView.as_view(), name="agent-detail"),
]
