"""A Channels WebSocket consumer for streams of many small messages (the media gateway's audio
frames, 50 a second each way per call, and the sandbox's realtime AI).

Channels' AsyncConsumer reads its messages with channels.utils.await_many_dispatch, which wraps
each `receive()` in a new task and waits on it with asyncio.wait (so that it can listen to the
channel layer too), and its dispatch closes old database connections (a thread hop) before every
handler. Both cost more than the relay of a frame itself. This consumer, when no channel layer is
configured, awaits `receive()` and dispatches in turn (same handlers, same order, StopConsumer
ends it), and dispatches without the per-message close_old_connections: a subclass touches the
database only through database_sync_to_async wrappers, which close old connections in the
thread they use. With a channel layer, Channels' own loop runs unchanged.
"""
from __future__ import annotations

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer


class StreamConsumer(AsyncWebsocketConsumer):
    async def __call__(self, scope, receive, send) -> None:
        if get_channel_layer(self.channel_layer_alias) is not None:
            await super().__call__(scope, receive, send)
            return
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass

    async def dispatch(self, message: dict) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)
