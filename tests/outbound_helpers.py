"""A real socket server on 127.0.0.1 that records every connection, and a fake resolver, for the
outbound guard's tests (tests/core/test_outbound.py, tests/orgs/test_ssrf.py)."""
from __future__ import annotations

import json
import re
import socket
import threading
from unittest import mock


def http_reply(status: int = 200, body: dict | None = None) -> bytes:
    content = json.dumps(body or {}).encode()
    return (f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(content)}\r\n"
            "Connection: close\r\n\r\n").encode() + content


class Listener:
    """Accepts connections on 127.0.0.1:<port>, records what each one sent, answers `reply`
    (nothing: it just closes), then closes."""

    def __init__(self, reply: bytes = b"") -> None:
        self.reply = reply
        self.received: list[bytes] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(0.5)
                data = b""
                try:
                    while not self._complete(data):
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                except OSError:
                    pass
                self.received.append(data)
                if self.reply:
                    try:
                        conn.sendall(self.reply)
                    except OSError:
                        pass

    @staticmethod
    def _complete(data: bytes) -> bool:
        head, sep, body = data.partition(b"\r\n\r\n")
        if not sep:
            return False
        length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
        return len(body) >= (int(length.group(1)) if length else 0)

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
        self.thread.join(2)


def closed_port() -> int:
    with socket.socket() as probe:  # bound, never listening, closed: nothing answers there
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def resolving(names: dict[str, list[str]]):
    """Patch core.outbound's resolver: each name to the given addresses; anything else fails."""
    def lookup(host, port):
        if host not in names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in names[host]]
    return mock.patch("core.outbound.lookup", side_effect=lookup)
