"""The ASGI application uvicorn serves (`make run`, the Procfile's web): HTTP is Django's; WebSockets
are the media gateway (`/media/stream`, webhooks.media_stream) and, for local walk-throughs and
tests, the sandbox's realtime AI emulator (`/sandbox/ai/v1/realtime`, sandbox.realtime)."""
import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_asgi_application()  # sets Django up before the consumers import models

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from sandbox.realtime import RealtimeEmulator  # noqa: E402
from webhooks.media_stream import MediaStreamConsumer  # noqa: E402

websocket_urlpatterns = [
    path("media/stream", MediaStreamConsumer.as_asgi()),
    path("media/stream/<str:provider>", MediaStreamConsumer.as_asgi()),
    path("sandbox/ai/v1/realtime", RealtimeEmulator.as_asgi()),
]

application = ProtocolTypeRouter({
    "http": django_application,
    "websocket": URLRouter(websocket_urlpatterns),
})

# What was loaded at start (Django, the apps, the URLconf) lives as long as the process: out of the
# collector's full passes, which otherwise walk it all (~100 ms on the gateway, a gap in every
# call's audio) and now walk only what requests and calls made since.
gc.freeze()
