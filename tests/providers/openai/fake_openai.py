"""A local OpenAI-compatible HTTP server (models list, chat completions) for the openai-realtime
connection's tests: the real SDK talks to it over a socket, through the outbound guard."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeOpenAI:
    def __init__(self, *, key: str = "sk-test-good", reply: str = "Hi from the fake model") -> None:
        self.key = key
        self.reply = reply
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self) -> bool:
                if self.headers.get("Authorization") != f"Bearer {fake.key}":
                    self._answer(401, {"error": {"message": "Incorrect API key provided",
                                                 "type": "invalid_request_error", "code": "invalid_api_key"}})
                    return False
                return True

            def do_GET(self) -> None:
                fake.requests.append({"method": "GET", "path": self.path})
                if not self._authorised():
                    return
                if self.path == "/v1/models":
                    self._answer(200, {"object": "list", "data": [
                        {"id": "gpt-realtime", "object": "model", "created": 0, "owned_by": "openai"}]})
                else:
                    self._answer(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append({"method": "POST", "path": self.path, "body": body})
                if not self._authorised():
                    return
                if self.path == "/v1/chat/completions":
                    self._answer(200, {"id": "chatcmpl-1", "object": "chat.completion", "created": 0,
                                       "model": body.get("model"), "choices": [{
                                           "index": 0, "finish_reason": "stop",
                                           "message": {"role": "assistant", "content": fake.reply}}]})
                else:
                    self._answer(404, {"error": {"message": "not found"}})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
