"""python manage.py bench_gateway [--calls 10,50,100] [--seconds 10]

N simulated calls at once through ONE gateway process (a uvicorn child serving config.asgi, as
`make run` and the Procfile do) to the sandbox's realtime AI (another uvicorn child:
sandbox.realtime_server, real time), the calls arriving over min(2 s, N × 20 ms),
audio both ways at 50 frames/s per direction (the caller sends a 20 ms frame every 20 ms all call
long; the AI's answers are 20 ms frames paced at real time). Each call: say a sentence, hear the
answer, again, until the time is up.

Printed, for each N:
- relay latency (after each call's set-up: its AI session configured, and 1 s), caller → AI and AI → caller, p50/p99:
  from a frame leaving the sender to reaching the receiver, on the machine's one monotonic clock.
  Caller → AI: from the caller (this process) stamping the frame just before encoding and writing
  it, to the AI emulator (its own process) having read, parsed and decoded it; AI → caller: from
  the emulator having written it to the caller having read and parsed it. So it is the gateway's
  added latency plus two loopback hops and the harness's own encoding, parsing and scheduling (an
  upper bound of the gateway's part);
- frames lost or reordered, each direction (every frame carries a sequence number);
- the gateway's share of the time from the caller's end of speech to the first AI audio frame
  (caller's last speech frame → AI heard it, plus AI's first frame → caller got it), p99;
- the gateway process's CPU per call (ms of CPU per second of call, and % of one core), and the
  harness's CPU (the AI emulator's process, the callers': this process) beside the gateway's;
- whether it meets the targets (relay p99 < 5 ms each way, 0 lost/reordered, share p99 < 20 ms),
  and the largest N that does.

With 2 or more CPUs the gateway runs alone on the first (one gateway process on one core) and the
harness on the others (--no-pin: all share every CPU, as the kernel schedules them).

BENCH_GATEWAY_COMMAND replaces the gateway child's `python` arguments ("{port}" is its port), e.g.
to run it under a profiler.
"""
from __future__ import annotations

import asyncio
import gc
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from twilio.request_validator import RequestValidator
from websockets.asyncio.client import connect

from orgs.models import Org
from orgs.services import connection_create
from phones.models import Agent, Call, PhoneNumber
from phones.stream_tokens import mint_stream_token
from sandbox.realtime_caller import SimulatedCaller
from sandbox.realtime_stream import SocketTransport

try:  # the callers' event loop: uvloop (uvicorn's, as the gateway's) where it is installed
    from uvloop import run as run_loop
except ImportError:  # pragma: no cover
    run_loop = asyncio.run

ORG_SLUG = "bench-gateway"
RELAY_TARGET_MS = 5.0
SHARE_TARGET_MS = 20.0
SEQ_SHIFT = 20
# The caller's frames sent while the gateway opens the AI session (start → session configured) wait
# for it: that set-up (at least a call's first second) is not relay, and is left out of the relay figures.
WARM_UP_S = 1.0
# How the gateway (and the AI emulator) serve WebSockets, as the Procfile's web does: no
# permessage-deflate (base64 audio barely compresses; deflating each frame costs more than relaying it).
UVICORN_WS = ["--ws", "websockets-sansio", "--ws-per-message-deflate", "false"]
# N calls arrive over min(this, N × 20 ms), as calls do, not all in the same millisecond.
RAMP_UP_S = 2.0


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, timeout: float = 30.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the gateway did not start on port {port}")


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pin(gateway_pid: int) -> set[int] | None:
    """One gateway process on one core, as the target says: the gateway gets the first CPU to itself
    and the harness (this process's callers, and the AI emulator, a child: it inherits them) the
    others, so that neither waits for a CPU the other holds (the kernel's and the database's work
    still go anywhere). The harness's CPUs, or None with fewer than 2."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None
    os.sched_setaffinity(gateway_pid, {cpus[0]})
    harness = set(cpus[1:])
    os.sched_setaffinity(0, harness)
    return harness


def _cleanup() -> None:
    """The benchmark's org and everything it left (its rows protect one another: children first)."""
    from billing.models import UsageRecord
    from orgs.models import ProviderConnection

    org = Org.objects.filter(slug=ORG_SLUG).first()
    if org is None:
        return
    UsageRecord.objects.filter(org=org).delete()
    Call.objects.filter(org=org).delete()
    PhoneNumber.objects.filter(org=org).delete()
    Agent.objects.filter(org=org).delete()
    ProviderConnection.objects.filter(org=org).delete()
    org.delete()


class Command(BaseCommand):
    help = "Media gateway benchmark: N concurrent simulated AI calls through one gateway process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--calls", default="10,50,100", help="Concurrency levels, comma separated.")
        parser.add_argument("--seconds", type=float, default=10.0, help="How long each level runs.")
        parser.add_argument("--no-pin", action="store_true",
                            help="Let the gateway and the harness share every CPU (by default, with 2 or more, the "
                                 "gateway has the first to itself and the harness the others).")

    def handle(self, *args, calls: str, seconds: float, no_pin: bool = False, **options) -> None:
        levels = [int(n) for n in calls.split(",") if n.strip()]
        org, number, agent = self._setup(max(levels))
        ai_port, gw_port = _free_port(), _free_port()
        env = {**os.environ, "SANDBOX_AI_BASE_URL": f"http://127.0.0.1:{ai_port}/sandbox/ai/v1",
               "PUBLIC_BASE_URL": f"http://127.0.0.1:{gw_port}", "DEBUG": os.environ.get("DEBUG", "true")}
        command = ["-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(gw_port),
                   "--no-access-log", "--log-level", "warning", *UVICORN_WS]
        if os.environ.get("BENCH_GATEWAY_COMMAND"):  # e.g. the gateway under a profiler
            command = os.environ["BENCH_GATEWAY_COMMAND"].format(port=gw_port).split()
        gateway = subprocess.Popen([sys.executable, *command], env=env)
        self.harness_cpus = _pin(gateway.pid) if not no_pin else None
        try:
            _wait_for(gw_port)
            best = 0
            gc.freeze()  # as config.asgi does in the gateway: no full collection walks what was loaded
            for n in levels:
                ok = run_loop(self._level(n, seconds, org, number, agent, ai_port, gw_port, gateway.pid))
                best = n if ok else best
            self.stdout.write(self.style.SUCCESS(f"largest concurrency meeting the targets in one process: {best}"))
        finally:
            gateway.terminate()
            gateway.wait(10)
            _cleanup()

    def _setup(self, n: int):
        _cleanup()
        with transaction.atomic():
            org = Org.objects.create(slug=ORG_SLUG, name="Gateway benchmark")
        phone = connection_create(org=org, type_="sandbox-provider", name="bench", credentials={})
        ai = connection_create(org=org, type_="sandbox-ai", name="bench AI", credentials={})
        agent = Agent.objects.create(org=org, name="bench", instructions="", greeting="Hi", connection=ai, tools=[],
                                     max_call_seconds=3600)
        number = PhoneNumber.objects.create(org=org, connection=phone, e164="+15005550999", status="active",
                                            country="US", agent=agent)
        return org, number, agent

    async def _level(self, n: int, seconds: float, org, number, agent, ai_port: int, gw_port: int, pid: int) -> bool:
        from asgiref.sync import sync_to_async

        log = Path(tempfile.mkdtemp()) / "sessions.jsonl"
        emulator = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "sandbox.realtime_server:application", "--host", "127.0.0.1",
             "--port", str(ai_port), "--no-access-log", "--log-level", "warning", *UVICORN_WS],
            env={**os.environ, "SANDBOX_AI_LOG": str(log), "DEBUG": os.environ.get("DEBUG", "true")})
        _wait_for(ai_port)

        @sync_to_async
        def calls() -> list[tuple[str, str]]:
            out = []
            for _ in range(n):
                sid = "CA" + secrets.token_hex(16)
                Call.objects.create(org=org, phone_number=number, direction="inbound", from_number="+14155550111",
                                    to_number=number.e164, provider_sid=sid, status="in-progress")
                out.append((sid, mint_stream_token(org_id=org.pk, number_id=number.pk, agent_id=agent.pk,
                                                   call_sid=sid, ttl_seconds=600)))
            return out

        made = await calls()
        url = f"ws://127.0.0.1:{gw_port}/media/stream"
        token = RequestValidator(number.connection.credentials["authToken"]).compute_signature(url, {})
        cpu_before, started = _cpu_seconds(pid), time.monotonic()
        ai_before, own_before = _cpu_seconds(emulator.pid), time.process_time()
        ramp = min(RAMP_UP_S, 0.02 * n)

        async def one(i: int, sid: str, stream_token: str):
            await asyncio.sleep(ramp * i / n)  # calls arrive over the ramp, not in the same millisecond
            async with connect(url, additional_headers={"X-Twilio-Signature": token}, max_size=None) as ws:
                caller = SimulatedCaller(SocketTransport(ws), call_sid=sid, account_sid="AC" + "0" * 32,
                                         parameters={"token": stream_token}, say=["what are your opening hours"] * 50,
                                         pace=1.0, max_seconds=seconds, stamp=True, seq_base=(i + 1) << SEQ_SHIFT)
                return await caller.run()

        reports = await asyncio.gather(*(one(i, sid, tok) for i, (sid, tok) in enumerate(made)),
                                       return_exceptions=True)
        elapsed = time.monotonic() - started - ramp / 2
        cpu = _cpu_seconds(pid) - cpu_before
        # The harness's own load, to read the figures by: the AI emulator's CPU and the callers'.
        harness = (_cpu_seconds(emulator.pid) - ai_before, time.process_time() - own_before)
        await asyncio.sleep(1.0)  # the emulator writes each session's log as it closes
        emulator.terminate()
        emulator.wait(10)
        sessions = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        ok = self._print(n, elapsed, cpu, reports, sessions)
        self.stdout.write(f"        harness: AI emulator {harness[0] / elapsed:.0%} of a core, callers "
                          f"{harness[1] / elapsed:.0%}, gateway {cpu / elapsed:.0%}; "
                          f"machine load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; " + (
                              f"gateway pinned to its own CPU, harness on {len(self.harness_cpus)}"
                              if self.harness_cpus else "gateway and harness share the CPUs"))
        return ok

    def _print(self, n: int, elapsed: float, cpu: float, reports: list, logs: list[dict]) -> bool:
        failed = [r for r in reports if isinstance(r, BaseException)]
        indexed = [(i, r) for i, r in enumerate(reports) if not isinstance(r, BaseException)]
        reports = [r for _, r in indexed]
        sessions = {s.get("caller_range"): s for s in logs if s.get("caller_range") is not None}
        up, down, share = [], [], []
        lost = {"up": 0, "down": 0}
        reordered = {"up": 0, "down": 0}
        for i, report in indexed:
            session = sessions.get(i + 1)
            if session is None:
                lost["up"] += len(report.sent_at)
                continue
            heard = session["heard"]
            heard_at = {seq: t for seq, t in heard}
            seqs = [seq for seq, _ in heard]
            reordered["up"] += sum(1 for a, b in zip(seqs, seqs[1:]) if b < a)
            # Frames sent in the last 100 ms may still be on their way when the caller hangs up.
            cutoff = max(report.sent_at.values(), default=0) - 0.1
            warm = max(min(report.sent_at.values(), default=0) + WARM_UP_S, session.get("configured_at", 0))
            for seq, t in report.sent_at.items():
                if seq in heard_at:
                    if t >= warm:
                        up.append((heard_at[seq] - t) * 1000)
                elif t < cutoff:
                    lost["up"] += 1
            sent = session.get("sent", [])
            sent_at = {seq: t for seq, t in sent}
            got = [seq for seq, _ in report.received]
            reordered["down"] += sum(1 for a, b in zip(got, got[1:]) if b < a)
            got_set = set(got)
            last_sent = max((t for _, t in sent), default=0) - 0.1
            lost["down"] += sum(1 for seq, t in sent if seq not in got_set and t < last_sent)
            for seq, t in report.received:
                if seq in sent_at:
                    down.append((t - sent_at[seq]) * 1000)
            # The first answer is the greeting (no speech before it): turn k's answer is answer k + 1.
            firsts, got_first = session.get("first_audio_at", [])[1:], report.first_audio_at[1:]
            for k, (seq, _t) in enumerate(report.speech_ended_at):
                if seq not in heard_at or k >= len(firsts) or k >= len(got_first):
                    continue
                share.append((heard_at[seq] - report.sent_at[seq]) * 1000 + (got_first[k] - firsts[k]) * 1000)
        call_seconds = max(elapsed, 1e-9) * max(len(reports), 1)
        cpu_ms = cpu * 1000 / call_seconds
        ok = (not failed and pct(up, 99) < RELAY_TARGET_MS and pct(down, 99) < RELAY_TARGET_MS
              and not any(lost.values()) and not any(reordered.values()) and pct(share, 99) < SHARE_TARGET_MS)
        self.stdout.write(
            f"N={n:4d}  calls ok {len(reports)}/{n}  frames up {len(up)} down {len(down)}  "
            f"relay caller→AI p50 {pct(up, 50):.2f} p99 {pct(up, 99):.2f} ms  AI→caller p50 {pct(down, 50):.2f} "
            f"p99 {pct(down, 99):.2f} ms  lost {lost['up']}/{lost['down']} reordered {reordered['up']}/"
            f"{reordered['down']}  end-of-speech→first-audio gateway share p99 {pct(share, 99):.2f} ms "
            f"({len(share)} turns)  gateway CPU {cpu_ms:.2f} ms per call-second ({cpu_ms / 10:.2f}% of a core per "
            f"call)  {'MEETS' if ok else 'misses'} the targets")
        for exc in failed[:3]:
            self.stdout.write(f"  a call failed: {exc!r}")
        return ok
