"""A scripted OpenAI-compatible Chat Completions server on loopback — a protocol test double.

It speaks the real wire protocol (HTTP, JSON bodies, SSE `data:` lines, `[DONE]`) so the
`openai` backend's real HTTP path is exercised; what it answers is scripted per test.
Each request is recorded (path, headers, JSON body) for assertions.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Script:
    """What the server does with the next requests (first match of `replies`, then `default`)."""

    text: str = "在自贡市、宜宾市开展试点[1]。"
    mode: str = "stream"  # stream | json | status | malformed | hang | malformed_sse
    status: int = 500
    error_body: str = '{"error": {"message": "internal error"}}'
    delay: float = 0.0
    chunk_size: int = 4
    fail_first: int = 0  # answer the first N requests with `status` before behaving normally
    reply_for: Callable[[dict], str] | None = None  # computes the text from the request body


@dataclass
class Recorder:
    requests: list[dict] = field(default_factory=list)
    script: Script = field(default_factory=Script)


def _handler(recorder: Recorder) -> type:
    return type("Handler", (_Handler,), {"recorder": recorder})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    recorder: Recorder

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        recorder = self.recorder
        recorder.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        script = recorder.script
        if len(recorder.requests) <= script.fail_first:
            return self._send(script.status, script.error_body)
        text = script.reply_for(body) if script.reply_for else script.text
        getattr(self, f"_{script.mode}")(script, text, body)

    def _send(self, status: int, payload: str, ctype: str = "application/json") -> None:
        data = payload.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _json(self, script: Script, text: str, body: dict) -> None:
        self._send(
            200,
            json.dumps(
                {
                    "id": "x",
                    "object": "chat.completion",
                    "model": body.get("model"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                    ],
                },
                ensure_ascii=False,
            ),
        )

    def _status(self, script: Script, text: str, body: dict) -> None:
        self._send(script.status, script.error_body)

    def _malformed(self, script: Script, text: str, body: dict) -> None:
        self._send(200, '{"choices": [ {"message": ')

    def _hang(self, script: Script, text: str, body: dict) -> None:
        time.sleep(script.delay)
        self._json(script, text, body)

    def _stream(self, script: Script, text: str, body: dict, malformed: bool = False) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        first = {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}
        self._event(json.dumps(first))
        for i in range(0, len(text), script.chunk_size):
            time.sleep(script.delay)
            delta = {"choices": [{"index": 0, "delta": {"content": text[i:i + script.chunk_size]}}]}
            self._event(json.dumps(delta, ensure_ascii=False))
        if malformed:
            self._event('{"choices": [ {"delta": ')
        self._event("[DONE]")
        self.close_connection = True

    def _malformed_sse(self, script: Script, text: str, body: dict) -> None:
        self._stream(script, text, body, malformed=True)

    def _event(self, data: str) -> None:
        self.wfile.write(f"data: {data}\n\n".encode())
        self.wfile.flush()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass  # a client that gave up (timeout tests) closes the socket mid-reply: expected


class OpenAITestServer:
    """`with OpenAITestServer() as server:` → `server.base_url` is http://127.0.0.1:<port>/v1."""

    def __init__(self) -> None:
        self.recorder = Recorder()
        self._server = _QuietServer(("127.0.0.1", 0), _handler(self.recorder))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def script(self) -> Script:
        return self.recorder.script

    @script.setter
    def script(self, value: Script) -> None:
        self.recorder.script = value

    @property
    def requests(self) -> list[dict]:
        return self.recorder.requests

    def __enter__(self) -> OpenAITestServer:  # noqa: PYI034 - Python 3.10 has no typing.Self
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
