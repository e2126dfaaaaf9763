"""The one list envelope: every list the API answers outside a product document's own shape is
`{"data": [...], "total": N, "limit": L, "offset": O}`, paged with `?limit=` (1-100, default 50) and
`?offset=`. (Messages keep the `{"data", "hasMore"}` cursor pages one document fixes.)"""
from __future__ import annotations

from collections.abc import Sequence

from django.db.models import QuerySet
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from core.serializers import MAX_OFFSET, StrictSerializer


class PageQuerySerializer(StrictSerializer):
    """`?limit=&offset=`; a list with more filters subclasses it."""
    limit = serializers.IntegerField(min_value=1, max_value=100, default=50, help_text="Page size, 1-100.")
    offset = serializers.IntegerField(min_value=0, max_value=MAX_OFFSET, default=0,
                                      help_text="How many to skip.")


def page_query(request: Request, query_class: type[PageQuerySerializer] = PageQuerySerializer) -> dict:
    """The validated query string (a 400 naming the field when it is bad)."""
    query = query_class(data=request.query_params.dict())
    query.is_valid(raise_exception=True)
    return query.validated_data


def page_body(data: list, *, total: int, query: dict) -> dict:
    return {"data": data, "total": total, "limit": query["limit"], "offset": query["offset"]}


def page_response(rows: QuerySet | Sequence, serializer_class: type[serializers.BaseSerializer], query: dict,
                  **serializer_kwargs) -> Response:
    """One page of `rows` (a queryset is sliced in SQL and counted), serialised, in the envelope."""
    start, stop = query["offset"], query["offset"] + query["limit"]
    total = rows.count() if isinstance(rows, QuerySet) else len(rows)
    page = serializer_class(rows[start:stop], many=True, **serializer_kwargs).data
    return Response(page_body(page, total=total, query=query))


def page_schema(serializer_class: type[serializers.Serializer], name: str) -> serializers.Serializer:
    """The envelope as the schema component `name`."""
    return inline_serializer(name=name, fields={
        "data": serializer_class(many=True), "total": serializers.IntegerField(),
        "limit": serializers.IntegerField(), "offset": serializers.IntegerField()})
