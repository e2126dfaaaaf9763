"""What the gateway tests share: the ASGI app served by a real uvicorn in a thread (the sandbox's
realtime AI is reached over a real WebSocket by the openai SDK, as in production), a Twilio-shaped
caller on a channels WebsocketCommunicator, and the AI call's rows."""
from __future__ import annotations

import asyncio
import json
import secrets
import socket
import threading
import time

import uvicorn
from asgiref.testing import ApplicationCommunicator
from twilio.request_validator import RequestValidator

from phones.models import Call, PhoneNumber
from phones.stream_tokens import mint_stream_token
from sandbox.models import SandboxCall, SandboxNumber
from sandbox.realtime_caller import SimulatedCaller, Transport


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self) -> None:
        from config.asgi import application

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(application, host="127.0.0.1", port=self.port,
                                                    log_level="warning", lifespan="off", ws="websockets-sansio"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class WebsocketCommunicator(ApplicationCommunicator):
    """A WebSocket client of the ASGI app in-process (what channels.testing's does, without its
    live-server extras)."""

    def __init__(self, application, path: str, headers=None) -> None:
        path, _, query = path.partition("?")
        super().__init__(application, {"type": "websocket", "path": path, "raw_path": path.encode(),
                                       "query_string": query.encode(), "headers": headers or [],
                                       "subprotocols": [], "scheme": "ws", "server": ("testserver", 80),
                                       "client": ("127.0.0.1", 50000)})

    async def connect(self, timeout: float = 5) -> tuple[bool, int | None]:
        await self.send_input({"type": "websocket.connect"})
        message = await self.receive_output(timeout)
        if message["type"] == "websocket.close":
            return False, message.get("code", 1000)
        return True, message.get("subprotocol")

    async def send_to(self, text_data: str) -> None:
        await self.send_input({"type": "websocket.receive", "text": text_data})

    async def disconnect(self, code: int = 1000, timeout: float = 5) -> None:
        await self.send_input({"type": "websocket.disconnect", "code": code})
        try:
            await self.wait(timeout)
        except TimeoutError:
            pass


class CommunicatorTransport(Transport):
    def __init__(self, communicator: WebsocketCommunicator, seen: list | None = None) -> None:
        self.communicator = communicator
        self.code: int | None = None
        self.seen = seen  # every message the gateway sent the provider, parsed, when a list is given

    async def send(self, text: str) -> None:
        await self.communicator.send_to(text_data=text)

    async def recv(self) -> str | None:
        while True:
            try:
                message = await self.communicator.receive_output(timeout=30)
            except TimeoutError:
                return None
            if message["type"] == "websocket.close":
                self.code = message.get("code", 1000)
                return None
            if message["type"] == "websocket.send" and message.get("text") is not None:
                if self.seen is not None:
                    self.seen.append(json.loads(message["text"]))
                return message["text"]

    async def close(self) -> None:
        await self.communicator.disconnect()

    def close_code(self) -> int | None:
        return self.code


def ai_call(number: PhoneNumber, *, caller: str = "+14155550111") -> tuple[Call, SandboxCall]:
    """An inbound call to `number` as the voice webhook leaves it: known to the sandbox account and
    stored on our side."""
    sid = "CA" + secrets.token_hex(16)
    sandbox_number = SandboxNumber.objects.select_related("account").get(phone_number=number.e164)
    live = SandboxCall.objects.create(sid=sid, account=sandbox_number.account, to=number.e164, from_number=caller,
                                      url="", direction="inbound", status="in-progress")
    call = Call.objects.create(org=number.org, phone_number=number, direction="inbound", from_number=caller,
                               to_number=number.e164, provider_sid=sid, status="in-progress")
    return call, live


def token_for(call: Call, **overrides) -> str:
    number = call.phone_number
    claims = {"org_id": number.org_id, "number_id": number.pk, "agent_id": number.agent_id,
              "call_sid": call.provider_sid, **overrides}
    return mint_stream_token(**claims)


def signed_headers(number: PhoneNumber, url: str | None = None) -> list[tuple[bytes, bytes]]:
    """Twilio's signature on the upgrade: over the wss URL our TwiML named, with the account's token."""
    from webhooks.media_stream import public_ws_url

    url = url or public_ws_url("/media/stream", "")
    account = SandboxNumber.objects.select_related("account").get(phone_number=number.e164).account
    signature = RequestValidator(account.auth_token).compute_signature(url, {})
    return [(b"x-twilio-signature", signature.encode())]


async def run_caller(call: Call, *, token: str | None = None, headers=None, say=(), digits=(), pace: float = 0.2,
                     interrupt_after_ms: int = 0, max_seconds: float = 20.0, left_stream=None,
                     dialect: str = "twilio", parameters: dict[str, str] | None = None, account_sid: str = "",
                     seen: list | None = None):
    """A call's media stream on /media/stream, the provider's side played by sandbox.realtime_caller
    in `dialect`, with the Stream's `parameters` (by default, a token for `call`); `seen` collects
    what the gateway sent the provider."""
    from config.asgi import application

    communicator = WebsocketCommunicator(application, "/media/stream", headers=headers or [])
    connected, _ = await communicator.connect()
    assert connected
    transport = CommunicatorTransport(communicator, seen)
    if parameters is None:
        parameters = {"token": token if token is not None else token_for(call)}
    caller = SimulatedCaller(transport, call_sid=call.provider_sid, account_sid=account_sid or "AC" + "0" * 32,
                             parameters=parameters, say=list(say), digits=list(digits), pace=pace,
                             interrupt_after_ms=interrupt_after_ms, max_seconds=max_seconds, left_stream=left_stream,
                             dialect=dialect)
    report = await caller.run()
    # Let the gateway's disconnect run (the AI session closed, the call's AI part recorded).
    await asyncio.sleep(0.3)
    return report
