"""The OpenAI chat-completions protocol, which most providers speak, with hooks for their quirks.

A provider plugin subclasses :class:`OpenAICompatibleBackend`, sets its class attributes (base
URL, key variable, default model, reasoning field names, rejected parameters) and overrides a
hook only where its provider really differs:

- :meth:`filter_params` drops or refuses request parameters the provider rejects;
- :meth:`rewrite_messages` adapts the history (e.g. Mistral's 9-character tool-call ids);
- :meth:`parse_rate_limit` reads the provider's rate-limit headers (from :class:`HTTPBackend`);
- ``reasoning_fields`` names where reasoning text arrives (``reasoning_content``, ``reasoning``);
- :meth:`response_format` says how to ask for JSON-schema output.

Streaming follows the protocol: SSE ``data:`` events ending in ``data: [DONE]``. Tool calls are
assembled by their ``index``; a chunk that repeats the id or name *sets* it (some servers resend
them in every chunk), argument text is appended. A chunk carrying an ``error`` object, which some
providers send under HTTP 200, ends the stream with a typed error.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar

from purpose_agent.errors import LLMError, RateLimitError, ResponseFormatError, StreamError, StructuredOutputError
from purpose_agent.models import ChatRequest, ChatResponse, Message, StreamChunk, ToolCall, Usage

from .http import HTTPBackend
from .streaming import SSEEvent


def parse_arguments(text: str | dict[str, Any] | None) -> dict[str, Any]:
    """Tool-call arguments as a dict.

    Models sometimes emit broken JSON; rather than failing the whole reply, the raw text is kept
    under ``"_raw"`` so argument validation downstream reports it and the model can be told.
    """
    if isinstance(text, dict):
        return text
    if not text or not text.strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return {"_raw": text}
    return value if isinstance(value, dict) else {"_raw": text}


class ToolCallAssembler:
    """Builds complete tool calls from streamed fragments, keyed by their ``index``."""

    def __init__(self) -> None:
        self._calls: dict[int, dict[str, str]] = {}

    def add(self, fragment: dict[str, Any]) -> None:
        """Merge one ``delta.tool_calls[]`` entry: id and name are set, arguments appended."""
        index = int(fragment.get("index", len(self._calls)))
        call = self._calls.setdefault(index, {"id": "", "name": "", "arguments": ""})
        function = fragment.get("function") or {}
        if fragment.get("id"):
            call["id"] = fragment["id"]
        if function.get("name"):
            call["name"] = function["name"]
        arguments = function.get("arguments")
        if isinstance(arguments, dict):  # a few servers send parsed objects
            call["arguments"] = json.dumps(arguments)
        elif arguments:
            call["arguments"] += arguments

    def calls(self) -> list[ToolCall]:
        """The calls seen so far, in index order."""
        return [
            ToolCall(id=c["id"] or f"call_{i}", name=c["name"], arguments=parse_arguments(c["arguments"]))
            for i, c in sorted(self._calls.items())
        ]


class OpenAICompatibleBackend(HTTPBackend):
    """A backend for any server that speaks OpenAI chat completions (``POST {base}/chat/completions``)."""

    provider: ClassVar[str] = "openai-compatible"
    #: Where reasoning text arrives in ``message`` / ``delta``, first match wins.
    reasoning_fields: ClassVar[tuple[str, ...]] = ("reasoning_content", "reasoning")
    #: Request parameters the provider rejects; :meth:`filter_params` drops them with a warning.
    rejected_params: ClassVar[frozenset[str]] = frozenset()
    #: Ask for a final usage chunk in streams (``stream_options.include_usage``).
    stream_usage: ClassVar[bool] = True
    chat_path: ClassVar[str] = "/chat/completions"
    models_path: ClassVar[str] = "/models"

    # ------------------------------------------------------------------ quirk hooks

    def filter_params(self, body: dict[str, Any]) -> dict[str, Any]:
        """Remove parameters the provider rejects (warning once per call, naming them)."""
        dropped = sorted(k for k in body if k in self.rejected_params)
        if dropped:
            warnings.warn(
                f"{self.provider} does not accept {', '.join(dropped)}; sending the request without them",
                stacklevel=4,
            )
        return {k: v for k, v in body.items() if k not in self.rejected_params}

    def rewrite_messages(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Adapt wire-format messages to the provider; unchanged by default."""
        return messages

    def response_format(self, schema: dict[str, Any]) -> dict[str, Any]:
        """The ``response_format`` that asks for JSON matching ``schema``."""
        return {"type": "json_schema", "json_schema": {"name": "response", "schema": schema}}

    # ------------------------------------------------------------------ request building

    def message_to_wire(self, message: Message) -> dict[str, Any]:
        """One :class:`Message` as an OpenAI chat message."""
        wire: dict[str, Any] = {"role": message.role, "content": message.content}
        if message.tool_calls:
            wire["content"] = message.content or None
            wire["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": json.dumps(c.arguments)}}
                for c in message.tool_calls
            ]
        if message.role == "tool":
            wire["tool_call_id"] = message.tool_call_id or ""
        if message.name:
            wire["name"] = message.name
        return wire

    def build_body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        """The JSON body for ``request`` after every quirk hook ran."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": self.rewrite_messages([self.message_to_wire(m) for m in request.messages]),
        }
        if request.tools:
            body["tools"] = [
                {"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}
                for t in request.tools
            ]
        if request.response_schema is not None:
            body["response_format"] = self.response_format(request.response_schema)
        body.update(self.sampling_fields(request))
        if stream:
            body["stream"] = True
            if self.stream_usage:
                body["stream_options"] = {"include_usage": True}
        body.update(request.extra)
        return self.filter_params(body)

    # ------------------------------------------------------------------ reply parsing

    def _reasoning(self, obj: dict[str, Any]) -> str:
        for field in self.reasoning_fields:
            value = obj.get(field)
            if isinstance(value, str) and value:
                return value
        return ""

    def usage_from(self, data: dict[str, Any] | None) -> Usage:
        """Token counts (and cost, when the price is known) from a ``usage`` object."""
        data = data or {}
        prompt = int(data.get("prompt_tokens") or 0)
        completion = int(data.get("completion_tokens") or 0)
        return Usage(prompt_tokens=prompt, completion_tokens=completion, cost_usd=self.cost(prompt, completion))

    def error_in_body(self, data: dict[str, Any], *, chunks_seen: int | None = None) -> LLMError:
        """The typed error for an ``error`` object found in a 200 reply or a stream chunk."""
        error = data.get("error")
        if isinstance(error, dict):
            message, code = str(error.get("message") or error), str(error.get("code") or error.get("type") or "")
        else:
            message, code = str(error), ""
        if code in ("429", "rate_limit_exceeded", "rate_limit") or "rate limit" in message.lower():
            return RateLimitError(self.provider, 1, None, message)
        where = f"after {chunks_seen} chunk(s) of the stream" if chunks_seen is not None else "in a 200 reply"
        return StreamError(
            f"{self.provider}: the server reported an error {where}: {message}{f' (code {code})' if code else ''}. "
            "The reply is incomplete; retry, or configure [model] fallback.",
            provider=self.provider,
        )

    def parse_response(self, data: Any, request: ChatRequest) -> ChatResponse:
        """A whole (non-streamed) reply as a :class:`ChatResponse`."""
        if not isinstance(data, dict):
            raise ResponseFormatError(f"{self.provider}: expected a JSON object, got {type(data).__name__}", provider=self.provider)
        if data.get("error"):
            raise self.error_in_body(data)
        choices = data.get("choices") or []
        if not choices:
            raise ResponseFormatError(
                f"{self.provider}: the reply has no 'choices': {json.dumps(data)[:200]}", provider=self.provider
            )
        choice = choices[0]
        raw = choice.get("message") or {}
        calls = [
            ToolCall(
                id=c.get("id") or f"call_{i}",
                name=(c.get("function") or {}).get("name", ""),
                arguments=parse_arguments((c.get("function") or {}).get("arguments")),
            )
            for i, c in enumerate(raw.get("tool_calls") or [])
        ]
        content = raw.get("content") or ""
        if request.response_schema is not None and not calls:
            self.check_json(content)
        message = Message(role="assistant", content=content, tool_calls=calls, reasoning=self._reasoning(raw) or None)
        return ChatResponse(
            message=message,
            usage=self.usage_from(data.get("usage")),
            model=str(data.get("model") or self.model),
            finish_reason=choice.get("finish_reason"),
        )

    def check_json(self, content: str) -> None:
        """Raise :class:`StructuredOutputError` if a reply asked for as JSON is not JSON."""
        try:
            json.loads(content)
        except json.JSONDecodeError as exc:
            raise StructuredOutputError(
                f"{self.name}: asked for JSON matching a schema, the model replied with text that is not JSON "
                f"({exc.msg}): {content[:120]!r}. Use a model that supports structured output, or retry.",
                provider=self.provider,
            ) from exc

    # ------------------------------------------------------------------ the Backend protocol

    def complete(self, request: ChatRequest) -> ChatResponse:
        """Send one request and return the whole reply."""
        return self.parse_response(self.post_json(self.chat_path, self.build_body(request, stream=False)), request)

    async def acomplete(self, request: ChatRequest) -> ChatResponse:
        """Async twin of :meth:`complete`."""
        data = await self.apost_json(self.chat_path, self.build_body(request, stream=False))
        return self.parse_response(data, request)

    def stream(self, request: ChatRequest) -> Iterator[StreamChunk]:
        """Yield the reply as it arrives; the last chunk has tool calls, usage and finish reason."""
        yield from self.stream_sse(self.chat_path, self.build_body(request, stream=True), _StreamState(self))

    async def astream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        """Async twin of :meth:`stream`; cancelling the consuming task closes the connection."""
        async for chunk in self.astream_sse(self.chat_path, self.build_body(request, stream=True), _StreamState(self)):
            yield chunk

    # ------------------------------------------------------------------ discovery and health

    def list_models(self) -> list[str]:
        """The model ids the server lists at ``GET {base}/models``."""
        response = self.send("GET", self.models_path, read_timeout=min(self.timeout, 15.0), attempts=1)
        data = response.json()
        items = data.get("data", data.get("models", [])) if isinstance(data, dict) else data
        items = items or []
        return sorted(str(m.get("id") or m.get("name")) if isinstance(m, dict) else str(m) for m in items)

    def health(self) -> tuple[bool, str]:
        """``(reachable, detail)``: lists the models with a short timeout."""
        try:
            models = self.list_models()
        except LLMError as exc:
            return False, str(exc)
        listed = "listed" if self.model in models else "NOT listed"
        return True, f"{len(models)} models at {self.base_url}; '{self.model}' {listed}"


class _StreamState:
    """Accumulates one streamed reply; ``feed`` yields chunks, ``finish`` the closing one."""

    def __init__(self, backend: OpenAICompatibleBackend) -> None:
        self.backend = backend
        self.tools = ToolCallAssembler()
        self.usage: Usage | None = None
        self.finish_reason: str | None = None
        self.done = False
        self.chunks = 0

    def feed(self, event: SSEEvent) -> Iterator[StreamChunk]:
        if self.done:
            return
        if event.data.strip() == "[DONE]":
            self.done = True
            return
        if not event.data.strip():
            return
        data = event.json(self.backend.provider)
        if not isinstance(data, dict):
            return
        if data.get("error"):
            raise self.backend.error_in_body(data, chunks_seen=self.chunks)
        self.chunks += 1
        if data.get("usage"):
            self.usage = self.backend.usage_from(data["usage"])
        for choice in data.get("choices") or []:
            delta = choice.get("delta") or {}
            for fragment in delta.get("tool_calls") or []:
                self.tools.add(fragment)
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
            content = delta.get("content") or ""
            reasoning = self.backend._reasoning(delta)
            if content or reasoning:
                yield StreamChunk(content=content, reasoning=reasoning)

    def finish(self) -> Iterator[StreamChunk]:
        if not self.done and self.finish_reason is None:
            raise StreamError(
                f"{self.backend.provider}: the stream ended after {self.chunks} chunk(s) without a finish reason "
                "or [DONE]; the connection was probably cut. The reply is incomplete; retry.",
                provider=self.backend.provider,
            )
        yield StreamChunk(tool_calls=self.tools.calls(), usage=self.usage, finish_reason=self.finish_reason or "stop")
