"""Benchmark: streaming a long recording through its signed link, against the sandbox.

A recording of --seconds seconds (an hour by default: 57.6 MB of MP3) is streamed through
`GET /recordings/{id}/media` in-process, the whole Django stack included: once as WSGI serves it
(a synchronous iterator) and once as ASGI does (an async iterator, each chunk read in a worker
thread). Printed: time to the first byte, throughput, and the peak Python memory allocated while
streaming (tracemalloc), which stays flat whatever the length; then the latency of seeking (a
64 KiB Range request in the middle). The org, connection and recording are deleted afterwards.
"""
from __future__ import annotations

import secrets
import statistics
import time
import tracemalloc
from unittest import mock
from urllib.parse import urlsplit

from asgiref.sync import async_to_sync
from django.core.management.base import BaseCommand
from django.test import AsyncClient, Client

from orgs.models import Org
from orgs.services import connection_create
from phones.models import Recording
from phones.recordings import signing
from sandbox import media, twilio_json
from sandbox.models import SandboxAccount, SandboxCall


class Command(BaseCommand):
    help = "Stream a long sandbox recording through its signed link and print throughput and peak memory."

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=int, default=3600, help="Length of the recording (default 3600).")
        parser.add_argument("--seeks", type=int, default=50, help="Range requests timed (default 50).")

    def handle(self, *args, seconds, seeks, **options):
        org = Org.objects.create(slug=f"bench-rec-{secrets.token_hex(4)}", name="Recording benchmark")
        account = None
        try:
            connection = connection_create(org=org, type_="sandbox-provider", name="Sandbox", credentials={})
            account = SandboxAccount.objects.get(sid=connection.credentials["accountSid"])
            sid = "RE" + secrets.token_hex(16)
            SandboxCall.objects.create(sid="CA" + secrets.token_hex(16), account=account, to="+14155550100",
                                       from_number="+14155550111", status="completed", recording_sid=sid,
                                       recording_status="completed")
            recording = Recording.objects.create(org=org, connection=connection, provider_sid=sid, status="completed")
            url = urlsplit(signing.media_url(recording.public_id)[0])
            path = f"{url.path}?{url.query}"
            size = media.mp3_source(seconds).size
            self.stdout.write(f"recording: {seconds} s, {size / 1e6:.1f} MB of MP3")
            with mock.patch.object(twilio_json, "RECORDING_SECONDS", seconds):
                self._whole("WSGI", lambda: Client().get(path), iter, size)
                self._whole("ASGI", lambda: async_to_sync(AsyncClient().get)(path), self._async_iter, size)
                self._seeks(path, size, seeks)
        finally:
            Recording.objects.filter(org=org).delete()
            if account is not None:
                account.delete()
            org.delete()

    @staticmethod
    def _async_iter(content):
        async def collect():
            return [chunk async for chunk in content]

        return iter(async_to_sync(collect)())

    def _whole(self, label, get, iterate, size):
        tracemalloc.start()
        try:
            started = time.perf_counter()
            response = get()
            chunks = iterate(response.streaming_content)
            first = next(chunks)
            first_byte = time.perf_counter() - started
            received = len(first) + sum(len(chunk) for chunk in chunks)
            elapsed = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert received == size, (received, size)
        if label == "ASGI":
            # The test client gathers an async response's chunks in a list before handing them over,
            # so its peak is not the server's: the WSGI figure is the streaming one.
            self.stdout.write(f"{label}: {received / 1e6:.1f} MB in {elapsed:.2f} s, "
                              f"{received / elapsed / 1e6:.0f} MB/s (chunk by chunk, each read in a worker thread)")
            return
        self.stdout.write(f"{label}: first byte {first_byte * 1000:.1f} ms, {received / elapsed / 1e6:.0f} MB/s, "
                          f"peak memory {peak / 1e6:.2f} MB while streaming {size / 1e6:.1f} MB")

    def _seeks(self, path, size, count):
        timings = []
        for n in range(count):
            start = (size // 2 + n * 4099) % (size - 65536)
            began = time.perf_counter()
            response = Client().get(path, HTTP_RANGE=f"bytes={start}-{start + 65535}")
            assert response.status_code == 206 and len(b"".join(response.streaming_content)) == 65536
            timings.append(time.perf_counter() - began)
        timings.sort()
        self.stdout.write(f"seek (64 KiB Range) over {count}: p50 {statistics.median(timings) * 1000:.1f} ms, "
                          f"p95 {timings[int(len(timings) * 0.95) - 1] * 1000:.1f} ms")
