"""A simulated call's media stream: what the sandbox does at a `<Connect><Stream>` (sandbox.simulate).

It opens the WebSocket the TwiML names, over a real socket (the gateway must be served: `make run`),
exactly as Twilio would: the upgrade signed with X-Twilio-Signature over that URL by the account's
auth token, then sandbox.realtime_caller plays the caller. While the stream runs it watches the
call in the emulator: a redirect (new TwiML: a transfer, the fallback) or a hang-up at the REST
API ends the stream, as Twilio ends it, and the walk goes on with what the call runs now.
"""
from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from twilio.request_validator import RequestValidator
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from sandbox.models import SandboxCall
from sandbox.realtime_caller import CallerReport, SimulatedCaller, Transport


class StreamUnavailable(Exception):
    pass


@dataclass
class StreamOutcome:
    report: CallerReport
    url: str
    redirected_twiml: str = ""  # what the call runs now, when a REST update sent it elsewhere
    hung_up: bool = False


class SocketTransport(Transport):
    def __init__(self, ws) -> None:
        self.ws = ws

    async def send(self, text: str) -> None:
        try:
            await self.ws.send(text)
        except ConnectionClosed:
            pass

    async def recv(self) -> str | None:
        try:
            message = await self.ws.recv()
        except ConnectionClosed:
            return None
        return message if isinstance(message, str) else message.decode("utf-8", "replace")

    async def close(self) -> None:
        await self.ws.close()

    def close_code(self) -> int | None:
        code = self.ws.close_code
        return None if code in (None, 1000) else code


def stream_of(root: ET.Element) -> tuple[str, dict[str, str]] | None:
    stream = root.find("Connect/Stream")
    if stream is None:
        return None
    return stream.get("url", ""), {p.get("name", ""): p.get("value", "") for p in stream.findall("Parameter")}


async def _play(live: SandboxCall, url: str, parameters: dict[str, str], *, say: list[str], digits: list[str],
                pace: float) -> StreamOutcome:
    account = live.account
    signature = RequestValidator(account.auth_token).compute_signature(url, {})
    before = (live.twiml, live.status)

    # Not thread-sensitive: the staff page runs this inside its own synchronous view's thread.
    @sync_to_async(thread_sensitive=False)
    def changed() -> tuple[str, str] | None:
        now = SandboxCall.objects.filter(pk=live.pk).values_list("twiml", "status").first()
        return now if now is not None and now != before else None

    async def left_stream() -> str:
        now = await changed()
        if now is None:
            return ""
        return "the call was hung up at the REST API" if now[1] == "completed" else "the call was redirected"

    try:
        ws = await connect(url, additional_headers={"X-Twilio-Signature": signature}, open_timeout=5)
    except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
        raise StreamUnavailable(f"cannot open the media stream {url}: {exc} (is the server running? `make run`)")
    async with ws:
        caller = SimulatedCaller(SocketTransport(ws), call_sid=live.sid, account_sid=account.sid,
                                 parameters=parameters, say=say, digits=digits, pace=pace, left_stream=left_stream)
        report = await caller.run()
    await asyncio.sleep(0.3)  # the gateway's last tool call may still be reaching the REST API
    now = await changed()
    outcome = StreamOutcome(report=report, url=url)
    if now is not None:
        outcome.hung_up = now[1] == "completed"
        outcome.redirected_twiml = "" if outcome.hung_up else now[0]
    return outcome


def play_stream(live: SandboxCall, url: str, parameters: dict[str, str], *, say: list[str], digits: list[str],
                pace: float = 1.0) -> StreamOutcome:
    return asyncio.run(_play(live, url, parameters, say=say, digits=digits, pace=pace))
