"""The media gateway's side of an AI call (what the call means): the realtime AI session, its tools,
the transcript and the AI time used. The WebSocket transport in front of it (upgrade checks, each
provider's stream messages) is webhooks.media_stream; the ASGI route is config.asgi."""
