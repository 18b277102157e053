"""A scriptable LLM server on 127.0.0.1 for tests: real HTTP, real sockets, no internet.

It speaks, by default, the three protocols the provider plugins use (OpenAI chat completions
with SSE, Ollama's NDJSON ``/api/chat``, Anthropic's ``/v1/messages`` with named SSE events),
replying ``hello`` with word-count usage. Tests queue :class:`FakeResponse` objects per path to
inject faults: error statuses with ``Retry-After``, delays past a timeout, streams cut mid-way,
malformed JSON, error objects inside a 200 stream. Every request is recorded.

::

    with FakeLLMServer() as server:
        server.queue("/v1/chat/completions", FakeResponse(status=429, headers={"Retry-After": "0"}))
        backend = MyBackend("m", base_url=server.url + "/v1", api_key="k")
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class FakeResponse:
    """One scripted reply. Give ``json_body`` or ``body`` for a whole reply, or ``lines`` to
    stream (each line is sent as its own chunk, newline added).

    ``delay`` waits before the status line; ``line_delay`` between streamed lines;
    ``cut_after`` drops the connection after that many lines without finishing the stream.
    """

    status: int = 200
    json_body: Any = None
    body: bytes | None = None
    lines: list[str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    line_delay: float = 0.0
    cut_after: int | None = None
    content_type: str | None = None


@dataclass
class RecordedRequest:
    """A request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


def _words(payload: Any) -> int:
    text = json.dumps(payload.get("messages", []) if isinstance(payload, dict) else payload)
    return max(1, len(text.split()) // 4)


def sse_lines(events: list[Any], *, done: bool = True) -> list[str]:
    """SSE lines for a list of JSON-able ``data`` payloads (or ``(event_name, payload)`` pairs)."""
    lines: list[str] = []
    for event in events:
        if isinstance(event, tuple):
            lines += [f"event: {event[0]}", f"data: {json.dumps(event[1])}", ""]
        else:
            lines += [f"data: {event if isinstance(event, str) else json.dumps(event)}", ""]
    if done:
        lines += ["data: [DONE]", ""]
    return lines


def _fake_vectors(texts: list[Any], dimensions: Any = None) -> list[list[float]]:
    """Hashed bag-of-words vectors (texts sharing words are close), scaled by 3 so a client must
    normalise them itself."""
    from purpose_agent.testing import HashingEmbedder

    size = int(dimensions) if isinstance(dimensions, int) and dimensions > 0 else 32
    matrix = HashingEmbedder(dimension=size).embed([str(t) for t in texts])
    return [[round(float(x) * 3, 6) for x in row] for row in matrix]


def default_reply(path: str, payload: Any, text: str = "hello") -> FakeResponse | None:
    """The protocol-correct reply for ``path`` (``None`` if the path is unknown)."""
    payload = payload if isinstance(payload, dict) else {}
    prompt = _words(payload)
    model = payload.get("model", "fake-model")
    stream = bool(payload.get("stream"))
    if path.endswith("/chat/completions"):
        if not stream:
            return FakeResponse(json_body={
                "id": "cmpl-1", "object": "chat.completion", "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": prompt, "completion_tokens": 1, "total_tokens": prompt + 1},
            })
        events: list[Any] = [{"choices": [{"index": 0, "delta": {"role": "assistant", "content": w}, "finish_reason": None}]}
                             for w in _split_words(text)]
        events.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        events.append({"choices": [], "usage": {"prompt_tokens": prompt, "completion_tokens": 1}})
        return FakeResponse(lines=sse_lines(events), content_type="text/event-stream")
    if path.endswith("/embeddings") or path == "/api/embed":
        inputs = payload.get("input")
        texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
        vectors = _fake_vectors(texts, payload.get("dimensions"))
        if path == "/api/embed":
            return FakeResponse(json_body={"model": model, "embeddings": vectors})
        # Items in reverse order: a client must place them by "index", as OpenAI's reply allows.
        data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)][::-1]
        return FakeResponse(json_body={"object": "list", "model": model, "data": data,
                                       "usage": {"prompt_tokens": prompt, "total_tokens": prompt}})
    if path.endswith("/models"):
        return FakeResponse(json_body={"object": "list", "data": [{"id": "fake-model"}, {"id": "other-model"}]})
    if path == "/api/tags":
        return FakeResponse(json_body={"models": [{"name": "fake-model:latest"}, {"name": "qwen3:1.7b"}]})
    if path == "/api/chat":
        final = {"model": model, "message": {"role": "assistant", "content": ""}, "done": True, "done_reason": "stop",
                 "prompt_eval_count": prompt, "eval_count": 1}
        if not stream:
            return FakeResponse(json_body={**final, "message": {"role": "assistant", "content": text}})
        parts = [json.dumps({"model": model, "message": {"role": "assistant", "content": w}, "done": False}) for w in _split_words(text)]
        return FakeResponse(lines=[*parts, json.dumps(final)], content_type="application/x-ndjson")
    if path.endswith("/messages"):
        usage = {"input_tokens": prompt, "output_tokens": 1}
        if not stream:
            return FakeResponse(json_body={
                "id": "msg_1", "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "usage": usage,
            })
        events = [
            ("message_start", {"type": "message_start", "message": {"id": "msg_1", "role": "assistant", "content": [],
                                                                    "usage": {"input_tokens": prompt, "output_tokens": 0}}}),
            ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            *[("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": w}})
              for w in _split_words(text)],
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 1}}),
            ("message_stop", {"type": "message_stop"}),
        ]
        return FakeResponse(lines=sse_lines(events, done=False), content_type="text/event-stream")
    return None


def _split_words(text: str) -> list[str]:
    words = text.split(" ")
    return [w if i == 0 else " " + w for i, w in enumerate(words)]


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 makes bursts of concurrent clients wait for SYN
    # retransmits (a second each); real servers listen with a deep backlog.
    request_queue_size = 256
    daemon_threads = True


class FakeLLMServer:
    """A threaded HTTP server on a free loopback port. Use as a context manager."""

    def __init__(self, reply_text: str = "hello") -> None:
        self.reply_text = reply_text
        self.requests: list[RecordedRequest] = []
        self._queues: dict[str, deque[FakeResponse]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ scripting

    def queue(self, path: str, *responses: FakeResponse) -> None:
        """Serve these replies, in order, to the next requests for ``path``; then the default."""
        with self._lock:
            self._queues[path].extend(responses)

    def _next(self, path: str, payload: Any) -> FakeResponse:
        with self._lock:
            queue = self._queues.get(path)
            if queue:
                return queue.popleft()
        reply = default_reply(path, payload, self.reply_text)
        return reply or FakeResponse(status=404, json_body={"error": {"message": f"no route {path}"}})

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        assert self._server is not None, "start the server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeLLMServer:
        """Bind a free port and serve in a daemon thread."""
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in separate writes; without this, Nagle's algorithm
                # plus delayed ACKs add ~40 ms to every reply and swamp what benchmarks measure.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    payload = json.loads(raw) if raw else None
                except json.JSONDecodeError:
                    payload = raw.decode("utf-8", "replace")
                path = self.path.split("?", 1)[0]
                owner.requests.append(RecordedRequest(self.command, path, dict(self.headers), payload))
                reply = owner._next(path, payload)
                try:
                    self._send(reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client went away (timeout, cancellation): that is what some tests check

            def _send(self, reply: FakeResponse) -> None:
                if reply.delay:
                    time.sleep(reply.delay)
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                if reply.lines is not None:
                    self.send_header("Content-Type", reply.content_type or "text/event-stream")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for index, line in enumerate(reply.lines):
                        if reply.cut_after is not None and index >= reply.cut_after:
                            self.wfile.flush()
                            self.connection.shutdown(socket.SHUT_RDWR)
                            self.close_connection = True
                            return
                        data = (line + "\n").encode()
                        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                        self.wfile.flush()
                        if reply.line_delay:
                            time.sleep(reply.line_delay)
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                    return
                body = reply.body if reply.body is not None else json.dumps(reply.json_body).encode()
                self.send_header("Content-Type", reply.content_type or "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()

            do_GET = do_POST = _handle

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-llm-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
