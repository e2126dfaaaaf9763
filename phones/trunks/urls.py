from django.urls import path

from phones.trunks import api

urlpatterns = [
    path("trunks", api.TrunksView.as_view(), name="trunks"),
    path("trunks/sync", api.TrunksSyncView.as_view(), name="trunks-sync"),
    path("trunks/<str:public_id>", api.TrunkDetailView.as_view(), name="trunk"),
]
