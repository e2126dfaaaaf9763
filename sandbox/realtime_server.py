"""The sandbox's realtime AI alone, as an ASGI app (`uvicorn sandbox.realtime_server:application`):
the gateway benchmark runs it in its own process, so neither the callers nor the gateway share its
CPU. With SANDBOX_AI_LOG set in the environment, each session's log (sandbox.realtime.RECENT's
entry: frames heard and sent with their times, truncations, tool calls) is appended to that file as a
JSON line when it ends."""
import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from channels.routing import URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from sandbox.realtime import RealtimeEmulator  # noqa: E402

application = URLRouter([path("sandbox/ai/v1/realtime", RealtimeEmulator.as_asgi())])
gc.freeze()  # as config.asgi: what was loaded at start is left out of the collector's full passes
