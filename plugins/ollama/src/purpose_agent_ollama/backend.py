"""The Ollama backend: Ollama's native ``/api/chat`` (NDJSON streaming) and ``/api/tags``."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from purpose_agent.errors import ModelNotFoundError, StreamError
from purpose_agent.models import ChatRequest, ChatResponse, Message, StreamChunk, ToolCall, Usage
from purpose_agent_http import HTTPBackend, aiter_ndjson, iter_ndjson, parse_arguments

if TYPE_CHECKING:
    from purpose_agent.interfaces import BackendProfile

DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"
#: Seconds the default-model check waits for Ollama to answer (it runs when no key is set).
PROBE_TIMEOUT = 0.5


def ollama_url(environ: Mapping[str, str] | None = None) -> str:
    """The Ollama base URL from ``OLLAMA_HOST`` (which may lack a scheme or a port)."""
    env = os.environ if environ is None else environ
    host = (env.get("OLLAMA_HOST") or DEFAULT_OLLAMA_HOST).strip().rstrip("/")
    if "://" not in host:
        host = "http://" + host
    scheme, _, rest = host.partition("://")
    if ":" not in rest.split("/", 1)[0]:
        rest = rest.replace("/", ":11434/", 1) if "/" in rest else rest + ":11434"
    return f"{scheme}://{rest}".replace("://0.0.0.0", "://127.0.0.1")


def ollama_answers(url: str, timeout: float = PROBE_TIMEOUT) -> bool:
    """Whether an Ollama server answers ``GET /api/tags`` at ``url`` within ``timeout`` seconds."""
    import httpx

    try:
        response = httpx.get(f"{url}/api/tags", timeout=httpx.Timeout(timeout))
    except httpx.HTTPError:
        return False
    return response.status_code == 200


class OllamaBackend(HTTPBackend):
    """A model served by a local (or remote) Ollama."""

    provider = "ollama"
    requires_key = False
    default_api_key_env = None
    #: Below every provider with a key, above the embedded model.
    default_priority = 200
    local = True

    def __init__(self, model: str = "", **kwargs: Any) -> None:
        super().__init__(model, **kwargs)
        if not kwargs.get("base_url") and not getattr(kwargs.get("settings"), "base_url", None):
            self.base_url = ollama_url(self._environ)

    @classmethod
    def profile(cls, name: str, settings: Any = None) -> BackendProfile:
        """Usable when an Ollama answers at ``[plugins.ollama] base_url`` or ``OLLAMA_HOST``."""
        from purpose_agent.interfaces import BackendProfile

        configured = getattr(settings, "base_url", None)

        def answers(environ: Mapping[str, str]) -> str | None:
            url = (configured or ollama_url(environ)).rstrip("/")
            return f"a local Ollama answers at {url}" if ollama_answers(url) else None

        return BackendProfile(name=name, priority=cls.default_priority, detect=answers, local=True)

    def _model(self) -> str:
        # "ollama:" means "whatever is installed": take the first model Ollama lists.
        if not self.model:
            models = self.list_models()
            if not models:
                raise ModelNotFoundError(self.provider, "(default)", None, f"no model is installed in Ollama at {self.base_url}; run 'ollama pull qwen3:1.7b'")
            self.model = models[0]
            self.name = f"{self.provider}:{self.model}"
        return self.model

    # ------------------------------------------------------------------ request and reply shapes

    def message_to_wire(self, message: Message) -> dict[str, Any]:
        """A :class:`Message` in Ollama's shape (tool arguments are objects, not strings)."""
        wire: dict[str, Any] = {"role": message.role, "content": message.content}
        if message.tool_calls:
            wire["tool_calls"] = [{"function": {"name": c.name, "arguments": c.arguments}} for c in message.tool_calls]
        if message.role == "tool" and message.name:
            wire["tool_name"] = message.name
        return wire

    def build_body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        """The ``/api/chat`` body."""
        body: dict[str, Any] = {
            "model": self._model(),
            "messages": [self.message_to_wire(m) for m in request.messages],
            "stream": stream,
        }
        if request.tools:
            body["tools"] = [
                {"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}
                for t in request.tools
            ]
        if request.response_schema is not None:
            body["format"] = request.response_schema
        options = self.sampling_fields(request, max_tokens="num_predict")
        extra = dict(request.extra)
        options.update(extra.pop("options", {}))
        if options:
            body["options"] = options
        body.update(extra)
        return body

    def _calls(self, raw: list[dict[str, Any]] | None, offset: int = 0) -> list[ToolCall]:
        return [
            ToolCall(
                id=c.get("id") or f"call_{offset + i}",
                name=(c.get("function") or {}).get("name", ""),
                arguments=parse_arguments((c.get("function") or {}).get("arguments")),
            )
            for i, c in enumerate(raw or [])
        ]

    def _usage(self, data: dict[str, Any]) -> Usage:
        prompt, completion = int(data.get("prompt_eval_count") or 0), int(data.get("eval_count") or 0)
        return Usage(prompt_tokens=prompt, completion_tokens=completion, cost_usd=self.cost(prompt, completion))

    def _check(self, data: Any, chunks: int | None = None) -> dict[str, Any]:
        if isinstance(data, dict) and data.get("error"):
            where = f" after {chunks} line(s) of the stream" if chunks is not None else ""
            raise StreamError(f"ollama: the server reported an error{where}: {data['error']}", provider=self.provider)
        if not isinstance(data, dict):
            raise StreamError(f"ollama: expected a JSON object, got {str(data)[:80]!r}", provider=self.provider)
        return data

    def parse_response(self, data: Any) -> ChatResponse:
        """A whole ``/api/chat`` reply."""
        data = self._check(data)
        raw = data.get("message") or {}
        message = Message(
            role="assistant",
            content=raw.get("content") or "",
            tool_calls=self._calls(raw.get("tool_calls")),
            reasoning=raw.get("thinking") or None,
        )
        finish = "tool_calls" if message.tool_calls else data.get("done_reason") or "stop"
        return ChatResponse(message=message, usage=self._usage(data), model=str(data.get("model") or self.model), finish_reason=finish)

    def _feed(self, data: Any, state: dict[str, Any]) -> Iterator[StreamChunk]:
        data = self._check(data, state["lines"])
        state["lines"] += 1
        raw = data.get("message") or {}
        state["calls"] += self._calls(raw.get("tool_calls"), len(state["calls"]))
        if raw.get("content") or raw.get("thinking"):
            yield StreamChunk(content=raw.get("content") or "", reasoning=raw.get("thinking") or "")
        if data.get("done"):
            state["done"] = True
            finish = "tool_calls" if state["calls"] else data.get("done_reason") or "stop"
            yield StreamChunk(tool_calls=state["calls"], usage=self._usage(data), finish_reason=finish)

    def _unfinished(self, state: dict[str, Any]) -> StreamError:
        return StreamError(
            f"ollama: the stream ended after {state['lines']} line(s) without 'done: true'; the reply is incomplete. "
            "Ollama may have crashed or unloaded the model; retry.",
            provider=self.provider,
        )

    # ------------------------------------------------------------------ the Backend protocol

    def complete(self, request: ChatRequest) -> ChatResponse:
        """Send one request and return the whole reply."""
        return self.parse_response(self.post_json("/api/chat", self.build_body(request, stream=False)))

    async def acomplete(self, request: ChatRequest) -> ChatResponse:
        """Async twin of :meth:`complete`."""
        return self.parse_response(await self.apost_json("/api/chat", self.build_body(request, stream=False)))

    def stream(self, request: ChatRequest) -> Iterator[StreamChunk]:
        """Yield the reply line by line; the last chunk has tool calls, usage and finish reason."""
        state: dict[str, Any] = {"lines": 0, "calls": [], "done": False}
        lines = self.stream_lines("/api/chat", self.build_body(request, stream=True))
        try:
            for data in iter_ndjson(lines, provider=self.provider):
                yield from self._feed(data, state)
                if state["done"]:
                    return
        finally:
            lines.close()
        raise self._unfinished(state)

    async def astream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        """Async twin of :meth:`stream`."""
        state: dict[str, Any] = {"lines": 0, "calls": [], "done": False}
        lines = self.astream_lines("/api/chat", self.build_body(request, stream=True))
        try:
            async for data in aiter_ndjson(lines, provider=self.provider):
                for chunk in self._feed(data, state):
                    yield chunk
                if state["done"]:
                    return
        finally:
            await lines.aclose()
        raise self._unfinished(state)

    def list_models(self) -> list[str]:
        """Installed models, from ``GET /api/tags``."""
        response = self.send("GET", "/api/tags", read_timeout=min(self.timeout, 5.0), attempts=1)
        return [str(m.get("name") or m.get("model")) for m in response.json().get("models", [])]

    def health(self) -> tuple[bool, str]:
        """``(reachable, detail)`` from ``/api/tags`` with a short timeout."""
        from purpose_agent.errors import LLMError

        try:
            models = self.list_models()
        except LLMError as exc:
            return False, f"{exc} Start it with 'ollama serve' or set OLLAMA_HOST."
        return True, f"Ollama at {self.base_url} with {len(models)} model(s): {', '.join(models[:5]) or 'none (ollama pull ...)'}"


__all__ = ["OllamaBackend", "ollama_answers", "ollama_url"]
