"""Benchmark the webhooks under gunicorn on PostgreSQL, against a bare Django view on the same server.

    DATABASE_URL=postgres://… python manage.py bench_webhooks [--workers 2] [--duration 10] [--connections 16]
        [--requests 100000] [--celery-workers 2] [--worker-nice 19] [--broker redis://127.0.0.1:6379/0]

Needs `wrk` (Debian: apt-get install wrk) and Redis: an inbound text's threading, usage and rule
effects run in a Celery task after the webhook answered, by a real worker (prefork, on its own
queue, at nice 19 by default).

Two things are measured about inbound texts, as the targets name them:
- the SMS webhook's own rate, like every other endpoint's: the web tier alone (its tasks are
  queued, no worker consumes them yet), as it would be with the worker on a machine of its own;
- texts answered and threaded end to end: then the worker is started, the backlog drained, and a
  second saturated SMS run made with the worker threading beside gunicorn on the same cores; its
  texts that the worker threaded, over the run and the drain of its backlog (the worker's queue
  empty when it starts). The webhook's rate in that run is printed too.

Sets up a bench org with a sandbox connection and a number (an IVR flow and one auto-reply rule
naming the sender), precomputes requests signed exactly as Twilio signs them (every SMS with its
own MessageSid and every call with its own CallSid, so each is really stored, and each run starts
where the one before stopped), starts gunicorn on 127.0.0.1, and for each of: the bare view
(`/connect/webhook/ping`), the reference (`/connect/webhook/reference/sms`, webhooks.reference: a
minimal durable SMS webhook as a django-twilio user would write it, sent texts to another number,
REFERENCE_NUMBER, so that they are not counted as the SMS webhook's), the inbound SMS webhook and
the IVR voice webhook, runs wrk:
  1. saturated (closed loop, `--connections`): requests/s, over ROUNDS runs, the endpoints taking
     turns, in order and in reverse order by rounds, so that the machine's drift is shared;
  2. at about half that rate (each connection paced by wrk's `delay()`): p50/p99 latency.
It prints those, the queries each webhook makes in the request and after it (counted
in-process, with a cold lookup cache), the ratios to the reference, and the targets. The bench's
messages (the reference's too), calls and contacts are deleted before and afterwards, and their
tables vacuumed and analyzed; the org, connection and number are kept.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, transaction
from django.db import connection as db_connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from twilio.request_validator import RequestValidator

from billing.models import UsageRecord
from orgs.models import Org, ProviderConnection
from orgs.services import connection_create
from phones.models import UNTHREADED, Call, Contact, Conversation, Message, PhoneNumber, PhoneRouting
from phones.provider_webhooks import webhook_url
from webhooks import lookup_cache, reference

BENCH_ORG = "bench-webhooks"
BENCH_NUMBER = "+15555550100"
# The reference's texts are sent to this one (no number of ours: the reference needs none).
REFERENCE_NUMBER = "+15555550101"
REFERENCE = "reference"
ENDPOINTS = ("bare view", REFERENCE, "inbound SMS", "IVR voice")
# Saturated runs per endpoint, taking turns (Command._measure).
ROUNDS = 4
BENCH_QUEUE = "bench-webhooks"
FLOW = {"entry": "main", "maxRetries": 3, "nodes": {
    "main": {"type": "menu", "say": "For sales press 1, for support press 2.", "timeout": 5,
             "options": {"1": "bye", "2": "bye"}},
    "bye": {"type": "hangup", "say": "Goodbye."}}}
RULES = [{"type": "auto-reply", "match": None, "params": {"template": "Thanks {{firstName}}, we got it."}}]

LUA = r"""
local requests, index, step, pause = {}, 0, 1, 0
local thread_count, counter = 0, 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
function init(args)
  pause = tonumber(args[2]) or 0
  step = tonumber(args[3]) or 1
  index = (tonumber(args[5]) or 0) + id
  for line in io.lines(args[1]) do
    local method, path, signature, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = {["Host"] = args[4]}
    if method == "POST" then
      headers["Content-Type"] = "application/x-www-form-urlencoded"
      headers["X-Twilio-Signature"] = signature
    end
    requests[#requests + 1] = wrk.format(method, path, headers, body)
  end
end
function request()
  index = index + step
  return requests[(index % #requests) + 1]
end
function delay()
  return pause
end
function done(summary, latency, requests)
  io.write(string.format('BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"non2xx": %d, "errors": %d}\n', summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99), summary.errors.status, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout))
end
"""


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    failed: int
    seconds: float  # from wrk's first request to its last (its start-up, loading the requests, is not)


class Command(BaseCommand):
    help = "Requests/s and p50/p99 of the SMS and IVR webhooks vs a bare view, under gunicorn on PostgreSQL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                            help="gunicorn worker processes serving the webhooks (default: the CPU count).")
        parser.add_argument("--duration", type=int, default=10, help="Seconds per wrk run (max 60).")
        parser.add_argument("--connections", type=int, default=16, help="Open connections wrk keeps (default 16).")
        parser.add_argument("--port", type=int, default=0, help="Default: a free port.")
        parser.add_argument("--requests", type=int, default=100_000, help="Distinct signed requests per webhook.")
        parser.add_argument("--celery-workers", type=int, default=2,
                            help="Celery worker processes (prefork) running the after-commit tasks.")
        parser.add_argument("--worker-nice", type=int, default=19,
                            help="CPU niceness of the Celery worker: by default it takes only the CPU the web "
                                 "tier leaves idle, as a worker on its own machine would.")
        parser.add_argument("--broker", default=settings.CELERY_BROKER_URL or "redis://127.0.0.1:6379/0",
                            help="Redis for the Celery worker (default: CELERY_BROKER_URL, else local Redis).")

    def handle(self, *args, workers: int, duration: int, connections: int, port: int, requests: int,
               broker: str, celery_workers: int, worker_nice: int, **options) -> None:
        if db_connection.vendor != "postgresql":
            raise CommandError("Run it on PostgreSQL: DATABASE_URL=postgres://… python manage.py bench_webhooks")
        if not shutil.which("wrk"):
            raise CommandError("wrk is needed (Debian/Ubuntu: apt-get install wrk)")
        duration = max(2, min(duration, 60))
        number = self._setup()
        queries = self._count_queries(number)
        port = port or _free_port()
        with tempfile.TemporaryDirectory() as tmp:
            files = self._request_files(Path(tmp), number, requests)
            script = Path(tmp) / "bench.lua"
            script.write_text(LUA)
            env = self._environment(broker)
            self._purge(env)
            server = self._gunicorn(port, workers, env)
            worker = None
            try:
                self._checkpoint()
                results, sent = self._measure(script, files, port, duration, connections)
                worker = self._worker(env, celery_workers, worker_nice)
                self._drain(number)  # the first SMS runs' backlog: not timed
                # Those runs filled the tables: the planner must know it, as autovacuum would have seen to.
                self._vacuum()
                threaded_rate, drained, beside = self._end_to_end(
                    script, files["inbound SMS"], port, duration, connections, number, offset=sent["inbound SMS"])
                sent["inbound SMS"] += beside.requests
            finally:
                for process in (server, worker):
                    if process is not None:
                        process.send_signal(signal.SIGTERM)
                        process.wait(timeout=30)
        wrapped = [name for name, count in sent.items() if count > requests and name != "bare view"]
        stored = Message.objects.filter(phone_number=number, direction="inbound").count()
        threaded = self._threaded(number).count()
        reference_stored = self._reference_messages(number).count()
        self._report(results, queries, workers, connections, duration, stored, threaded, drained, threaded_rate,
                     beside, celery_workers, worker_nice, reference_stored)
        if wrapped:
            self.stdout.write(f"note: {', '.join(wrapped)} sent more than --requests {requests}: some requests were "
                              "repeats (duplicates are cheaper); rerun with a larger --requests")
        self._clean(number)

    # ---------------------------------------------------------------- setup

    def _setup(self) -> PhoneNumber:
        org, _ = Org.objects.get_or_create(slug=BENCH_ORG, defaults={"name": "Webhook bench"})
        connection = ProviderConnection.objects.filter(org=org, is_active=True).first() or connection_create(
            org=org, type_=ProviderConnection.Type.SANDBOX, name="Bench sandbox", credentials={})
        taken = PhoneNumber.objects.filter(e164=BENCH_NUMBER, status__in=PhoneNumber.LIVE_STATUSES).exclude(org=org)
        if taken.exists():
            raise CommandError(f"{BENCH_NUMBER} belongs to another org here; the bench needs it")
        number, _ = PhoneNumber.objects.update_or_create(
            org=org, e164=BENCH_NUMBER, defaults={"connection": connection, "country": "US", "status": "active",
                                                  "routing_mode": PhoneNumber.RoutingMode.IVR})
        PhoneRouting.objects.update_or_create(phone_number=number, defaults={"ivr_flow": FLOW, "sms_rules": RULES})
        self._clean(number)
        return number

    def _reference_messages(self, number: PhoneNumber):
        return Message.objects.filter(org=number.org, phone_number__isnull=True, to_number=REFERENCE_NUMBER)

    def _clean(self, number: PhoneNumber) -> None:
        """Delete the bench's rows, then vacuum and analyze their tables: each run starts from the
        same state, whatever ran before (autovacuum, where it is off, would leave them bloated
        with every earlier run's dead rows, and unanalyzed)."""
        Message.objects.filter(phone_number=number).delete()
        self._reference_messages(number).delete()
        Call.objects.filter(phone_number=number).delete()
        Conversation.objects.filter(phone_number=number).delete()
        Contact.objects.filter(org=number.org).delete()
        UsageRecord.objects.filter(phone_number=number, kind__in=["sms_segment", "call_minute"]).delete()
        self._vacuum()

    def _checkpoint(self) -> None:
        """CHECKPOINT before the runs, so that the next timed one (checkpoint_timeout later, 5 min by
        default) comes after a bench of the default length rather than during one endpoint's runs,
        whose commits it would slow and no other endpoint's. Needs a superuser (or pg_checkpoint);
        without one it is said and skipped."""
        try:
            with db_connection.cursor() as cursor:
                cursor.execute("CHECKPOINT")
        except DatabaseError as exc:
            self.stderr.write(f"no CHECKPOINT before the runs ({str(exc).strip()}): a timed one may fall in them")

    @staticmethod
    def _vacuum() -> None:
        """VACUUM (ANALYZE) the tables the webhooks write: what autovacuum does as they grow (and
        cannot where it is off), so that the planner knows their size and their dead rows are gone."""
        tables = ", ".join(db_connection.ops.quote_name(model._meta.db_table)
                           for model in (Message, Call, Conversation, Contact, UsageRecord))
        with db_connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {tables}")

    def _signed(self, number: PhoneNumber, kind: str, params: dict[str, str], url: str = ""
                ) -> tuple[str, str, str]:
        credentials = number.connection.credentials
        params = {"AccountSid": credentials["accountSid"], **params}
        url = url or webhook_url(kind)
        signature = RequestValidator(credentials["authToken"]).compute_signature(url, params)
        return urlsplit(url).path, signature, urlencode(params)

    def _sms(self, number: PhoneNumber, i: int) -> tuple[str, str, str]:
        return self._signed(number, "sms", {"MessageSid": f"SM{i:032x}", "From": f"+1415555{i % 10000:04d}",
                                            "To": number.e164, "Body": "Hello there", "NumSegments": "1"})

    def _reference(self, number: PhoneNumber, i: int) -> tuple[str, str, str]:
        """A text for the reference view: to REFERENCE_NUMBER, with MessageSids no SMS run uses."""
        return self._signed(number, "sms", {"MessageSid": f"SMfe{i:030x}", "From": f"+1415555{i % 10000:04d}",
                                            "To": REFERENCE_NUMBER, "Body": "Hello there", "NumSegments": "1"},
                            url=f"{settings.PUBLIC_BASE_URL}{reverse('webhook-reference-sms')}")

    def _call(self, number: PhoneNumber, i: int) -> tuple[str, str, str]:
        return self._signed(number, "ivr-menu", {"CallSid": f"CA{i:032x}", "From": f"+1415555{i % 10000:04d}",
                                                 "To": number.e164, "CallStatus": "ringing", "Direction": "inbound"})

    def _request_files(self, tmp: Path, number: PhoneNumber, count: int) -> dict[str, Path]:
        files = {"bare view": tmp / "bare.tsv", REFERENCE: tmp / "reference.tsv", "inbound SMS": tmp / "sms.tsv",
                 "IVR voice": tmp / "ivr.tsv"}
        files["bare view"].write_text("GET\t/connect/webhook/ping\t\t\n")
        # Offset past the requests counted in-process, so none of them is a duplicate.
        for name, make in ((REFERENCE, self._reference), ("inbound SMS", self._sms), ("IVR voice", self._call)):
            with files[name].open("w") as out:
                for i in range(10, count + 10):
                    path, signature, body = make(number, i)
                    out.write(f"POST\t{path}\t{signature}\t{body}\n")
        return files

    def _count_queries(self, number: PhoneNumber) -> dict[str, tuple[int, int]]:
        """Queries per webhook, in-process: (the request's, after its commit) for a new sender's
        first text, a returning sender's, and a call. The request runs in a transaction so that
        what it leaves for after commit (run eagerly here) is counted apart; the savepoints that
        makes of its own transactions, and transaction control, are not counted. Each starts with
        an empty lookup cache: once a process has the number, its request makes one query less."""
        client = Client()
        counts = {}
        for name, (path, signature, body) in ((REFERENCE, self._reference(number, 1)),
                                              ("inbound SMS (new sender)", self._sms(number, 1)),
                                              ("inbound SMS (returning sender)", self._sms(number, 10_001)),
                                              ("IVR voice", self._call(number, 1))):
            lookup_cache.invalidate()
            reference.forget_accounts()
            # Left in reverse order: the request's queries, then the commit (and what runs after it).
            with CaptureQueriesContext(db_connection) as after, transaction.atomic(), \
                    CaptureQueriesContext(db_connection) as request:
                response = client.post(path, body, content_type="application/x-www-form-urlencoded",
                                       HTTP_X_TWILIO_SIGNATURE=signature)
            if response.status_code != 200:
                raise CommandError(f"{name}: HTTP {response.status_code} in-process: {response.content[:200]!r}")
            counts[name] = (len(_statements(request.captured_queries)),
                            len(_statements(after.captured_queries)) - len(_statements(request.captured_queries)))
        return counts

    # ---------------------------------------------------------------- running

    def _environment(self, broker: str) -> dict[str, str]:
        return {**os.environ, "SECRET_KEY": settings.SECRET_KEY,
                "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
                "PUBLIC_BASE_URL": settings.PUBLIC_BASE_URL, "ALLOWED_HOSTS": "127.0.0.1", "DEBUG": "false",
                "LOG_LEVEL": "WARNING", "CELERY_BROKER_URL": broker, "CELERY_QUEUE": BENCH_QUEUE}

    def _purge(self, env: dict[str, str]) -> None:
        """Empty the bench's own queue (a run stopped halfway may have left tasks in it)."""
        subprocess.run([str(Path(sys.executable).with_name("celery")), "-A", "config", "purge", "-f", "-Q",
                        BENCH_QUEUE], env=env, cwd=settings.BASE_DIR, check=True, capture_output=True, timeout=30)

    def _worker(self, env: dict[str, str], processes: int, nice: int) -> subprocess.Popen:
        """A Celery worker (`processes` prefork children, at CPU niceness `nice`) on the bench's own queue."""
        celery = str(Path(sys.executable).with_name("celery"))
        worker = subprocess.Popen(["nice", "-n", str(nice), celery, "-A", "config", "worker", "-Q", BENCH_QUEUE,
                                   "--pool", "prefork",
                                   "--concurrency", str(processes),
                                   "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
                                  env=env, cwd=settings.BASE_DIR)
        return worker

    def _drain(self, number: PhoneNumber) -> float:
        """Seconds until the worker has threaded every stored text (polled every 50 ms: a coarser
        poll would count up to its interval of idle time into the end-to-end rate)."""
        started = time.monotonic()
        pending = Message.objects.filter(UNTHREADED, phone_number=number)  # the worker's own index
        while pending.exists():
            if time.monotonic() - started > 600:
                raise CommandError("the worker has not threaded the stored texts in 10 minutes: is it running?")
            time.sleep(0.05)
        return time.monotonic() - started

    def _gunicorn(self, port: int, workers: int, env: dict[str, str]) -> subprocess.Popen:
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "config.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", str(workers), "--log-level", "warning"], env=env, cwd=settings.BASE_DIR)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return server
            except OSError:
                time.sleep(0.2)
        server.kill()
        raise CommandError("gunicorn did not start")

    def _wrk(self, script: Path, requests: Path, port: int, duration: int, connections: int,
             pause_ms: int = 0, offset: int = 0) -> Result:
        """One wrk run, its threads taking turns through `requests` from line `offset` on."""
        threads = min(2, connections)
        output = subprocess.run(
            ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--timeout", "5s",
             "-s", str(script), f"http://127.0.0.1:{port}", "--", str(requests), str(pause_ms), str(threads),
             f"127.0.0.1:{port}", str(offset)], capture_output=True, text=True, timeout=duration + 60,
            check=True).stdout
        line = next(line for line in output.splitlines() if line.startswith("BENCH "))
        data = json.loads(line[len("BENCH "):])
        return Result(rps=data["requests"] / (data["duration_us"] / 1e6), p50_ms=data["p50_us"] / 1000,
                      p99_ms=data["p99_us"] / 1000, requests=data["requests"], failed=data["non2xx"] + data["errors"],
                      seconds=data["duration_us"] / 1e6)

    def _end_to_end(self, script: Path, requests: Path, port: int, duration: int, connections: int,
                    number: PhoneNumber, offset: int) -> tuple[float, float, Result]:
        """A saturated SMS run with the worker threading beside it, its queue empty at the start:
        the texts it stored that the worker threaded per second, over the run (wrk's requests, not
        its start-up) and the drain of its backlog; the drain's seconds; the webhook's own result in
        that run."""
        done = self._threaded(number).count()
        saturated = self._wrk(script, requests, port, duration, connections, offset=offset)
        drained = self._drain(number)
        return (self._threaded(number).count() - done) / (saturated.seconds + drained), drained, saturated

    def _measure(self, script: Path, files: dict[str, Path], port: int, duration: int, connections: int
                 ) -> tuple[dict[str, tuple[Result, Result]], dict[str, int]]:
        """Each endpoint's saturated and half-load results, and how many requests its runs sent (each
        run starts where the one before stopped, so no text or call is sent twice until the file's
        end, `--requests`, wraps around).

        Saturated: ROUNDS runs of `duration` per endpoint, taking turns, in order then in reverse
        order (bare, reference, SMS, IVR, IVR, SMS, reference, bare, …), summed into one result.
        The machine's speed drifts between runs a minute apart by as much as the differences
        measured; taking turns gives every endpoint the same share of it, where one run each, in
        order, would give each endpoint its own minute, and reversing the order every other round
        cancels a steady drift and what a run leaves to the next (dirty pages, WAL to recycle)."""
        sent = {name: self._wrk(script, files[name], port, 2, connections).requests  # warm up: imports, caches
                for name in ENDPOINTS}
        runs: dict[str, list[Result]] = {name: [] for name in ENDPOINTS}
        for round_ in range(ROUNDS):
            for name in ENDPOINTS if round_ % 2 == 0 else reversed(ENDPOINTS):
                run = self._wrk(script, files[name], port, duration, connections, offset=sent[name])
                runs[name].append(run)
                sent[name] += run.requests
        results = {}
        for name in ENDPOINTS:
            saturated = _summed(runs[name])
            half, sent[name] = self._half_load(script, files[name], port, duration, connections, saturated,
                                               sent[name])
            results[name] = (saturated, half)
        return results, sent

    def _half_load(self, script: Path, requests: Path, port: int, duration: int, connections: int,
                   saturated: Result, sent: int) -> tuple[Result, int]:
        """A run at about half the saturated rate, and the requests sent so far after it.

        Each connection waits `pause` between requests so that all together make about half the
        saturated rate; wrk's pacing is loose (a closed connection's next request is not always
        delayed), so the pause is corrected from the rate a run achieved, at most twice."""
        target = saturated.rps / 2
        pause_ms = max(int(connections / target * 1000 - saturated.p50_ms), 1)
        for _ in range(3):
            half = self._wrk(script, requests, port, duration, connections, pause_ms=pause_ms, offset=sent)
            sent += half.requests
            if half.rps <= target * 1.1:
                break
            pause_ms = int(pause_ms * half.rps / target) + 1
        return half, sent

    @staticmethod
    def _threaded(number: PhoneNumber):
        return Message.objects.filter(phone_number=number, direction="inbound", conversation__isnull=False)

    # ---------------------------------------------------------------- report

    def _report(self, results: dict[str, tuple[Result, Result]], queries: dict[str, tuple[int, int]],
                workers: int, connections: int, duration: int, stored: int, threaded: int, drained: float,
                end_to_end: float, beside: Result, celery_workers: int, worker_nice: int,
                reference_stored: int) -> None:
        write = self.stdout.write
        write(f"gunicorn {workers} sync workers, PostgreSQL {db_connection.settings_dict['HOST']}, wrk "
              f"{connections} connections, {duration}s per run ({ROUNDS} saturated runs per endpoint, taking turns), "
              f"127.0.0.1, on {os.cpu_count()} cores; the "
              f"end-to-end run shares them with a Celery worker ({celery_workers} processes at nice "
              f"{worker_nice}, Redis) threading the inbound texts\n")
        write(f"{'endpoint':<14} {'req/s (sat.)':>12} {'% of bare':>10} {'rate at half':>13} {'p50 ms':>8} "
              f"{'p99 ms':>8} {'failed':>7}")
        bare = results["bare view"][0].rps
        for name, (saturated, half) in results.items():
            write(f"{name:<14} {saturated.rps:>12.0f} {saturated.rps / bare * 100:>9.0f}% {half.rps:>13.0f} "
                  f"{half.p50_ms:>8.2f} {half.p99_ms:>8.2f} {saturated.failed + half.failed:>7}")
        write("\nqueries per webhook (in-process, fixed), in the request + after commit: "
              + ", ".join(f"{name} {request} + {after}" for name, (request, after) in queries.items()))
        write(f"inbound texts stored during the runs: {stored}, threaded by the worker: {threaded}")
        # The webhook can answer faster than the worker threads: what was fully done, per second.
        write(f"end to end, a saturated SMS run with the worker beside it: the webhook answered {beside.rps:.0f} "
              f"req/s ({beside.failed} failed); texts answered and threaded per second over the run and the drain "
              f"of its backlog ({drained:.1f}s after it): {end_to_end:.0f}")
        write(f"reference texts stored during its runs: {reference_stored} (one per request answered)")
        # Against the minimal durable webhook (webhooks.reference) measured in the same run.
        ref_saturated, ref_half = results[REFERENCE]
        ref = ref_saturated.rps
        write(f"\nvs the reference (minimal durable webhook, {ref:.0f} req/s saturated):")
        checks = [("inbound SMS / reference", results["inbound SMS"][0].rps / ref, 0.9),
                  ("IVR voice / reference", results["IVR voice"][0].rps / ref, 2.0),
                  ("texts answered and threaded end to end per second / reference", end_to_end / ref, 0.5)]
        for label, ratio, target in checks:
            write(f"  {label}: {ratio:.2f} (target >= {target:g}: {'met' if ratio >= target else 'NOT met'})")
        for name in (REFERENCE, "inbound SMS", "IVR voice"):
            p99 = results[name][1].p99_ms
            write(f"  p99 at half load, {name}: {p99:.2f} ms (target < 50 ms: {'met' if p99 < 50 else 'NOT met'})")
        failed = sum(s.failed + h.failed for s, h in results.values()) + beside.failed
        write(f"  failed requests: {failed} (target 0: {'met' if not failed else 'NOT met'})")
        ok = (all(ratio >= target for _, ratio, target in checks) and not failed
              and all(results[name][1].p99_ms < 50 for name in (REFERENCE, "inbound SMS", "IVR voice")))
        write(f"targets vs the reference: {'met' if ok else 'NOT met'}")


def _summed(runs: list[Result]) -> Result:
    """Several runs of one endpoint as one: its requests over their seconds, the median run's p50
    and the worst p99."""
    p50s = sorted(run.p50_ms for run in runs)
    return Result(rps=sum(run.requests for run in runs) / sum(run.seconds for run in runs),
                  p50_ms=p50s[len(p50s) // 2], p99_ms=max(run.p99_ms for run in runs),
                  requests=sum(run.requests for run in runs), failed=sum(run.failed for run in runs),
                  seconds=sum(run.seconds for run in runs))


def _statements(queries: list[dict]) -> list[dict]:
    return [q for q in queries if q["sql"] not in ("BEGIN", "COMMIT") and "SAVEPOINT" not in q["sql"]]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
