"""The webhook benchmark's references (webhooks.management.commands.bench_webhooks)."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def ping(request: HttpRequest) -> HttpResponse:
    """A bare view, the benchmark's baseline: what Django alone costs on this server."""
    return HttpResponse("pong", content_type="text/plain")
