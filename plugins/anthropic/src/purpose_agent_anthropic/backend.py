"""The Anthropic backend: the Messages API (``POST /v1/messages``) and its named SSE events."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import datetime
from typing import Any

from purpose_agent.errors import LLMError, ProviderUnavailableError, RateLimitError, StreamError
from purpose_agent.models import ChatRequest, ChatResponse, Message, StreamChunk, ToolCall, Usage
from purpose_agent_http import HTTPBackend, RateLimitInfo, SSEEvent, parse_arguments

API_VERSION = "2023-06-01"
#: The forced tool that carries structured output (the Messages API has no response_format).
RESPOND_TOOL = "respond"
DEFAULT_MAX_TOKENS = 1024


def _epoch(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


class AnthropicBackend(HTTPBackend):
    """Claude models through the Messages API."""

    provider = "anthropic"
    default_base_url = "https://api.anthropic.com/v1"
    default_api_key_env = "ANTHROPIC_API_KEY"
    default_model_id = "claude-3-5-haiku-latest"
    #: Place in the default chain when its key is set (see HTTPBackend.default_priority).
    default_priority = 380
    #: Published list prices when written (USD per 1M prompt, completion tokens); for budgeting, not invoicing.
    list_prices = {
        "claude-3-5-haiku-latest": (0.80, 4.00),
    }

    def auth_headers(self, key: str | None) -> dict[str, str]:
        return {"x-api-key": key or "", "anthropic-version": API_VERSION}

    def parse_rate_limit(self, headers: Mapping[str, str]) -> RateLimitInfo:
        import time

        def number(name: str) -> int | None:
            value = headers.get(name)
            return int(value) if value and value.isdigit() else None

        resets = [_epoch(headers.get(f"anthropic-ratelimit-{kind}-reset")) for kind in ("requests", "tokens")]
        known = [r - time.time() for r in resets if r is not None]
        return RateLimitInfo(
            requests_remaining=number("anthropic-ratelimit-requests-remaining"),
            tokens_remaining=number("anthropic-ratelimit-tokens-remaining"),
            reset_s=max(0.0, max(known)) if known else None,
        )

    # ------------------------------------------------------------------ request building

    def build_body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        """The Messages API body: system on top, tool results as user ``tool_result`` blocks."""
        system = [m.content for m in request.messages if m.role == "system"]
        messages: list[dict[str, Any]] = []
        for m in request.messages:
            if m.role == "system":
                continue
            if m.role == "tool":
                block = {"type": "tool_result", "tool_use_id": m.tool_call_id or "", "content": m.content}
                # Results of parallel calls must share one user message, in order.
                if messages and messages[-1]["role"] == "user" and isinstance(messages[-1]["content"], list) and all(
                    b.get("type") == "tool_result" for b in messages[-1]["content"]
                ):
                    messages[-1]["content"].append(block)
                else:
                    messages.append({"role": "user", "content": [block]})
                continue
            if m.role == "assistant" and m.tool_calls:
                blocks: list[dict[str, Any]] = [{"type": "text", "text": m.content}] if m.content else []
                blocks += [{"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments} for c in m.tool_calls]
                messages.append({"role": "assistant", "content": blocks})
                continue
            messages.append({"role": m.role, "content": m.content})
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
        }
        if system:
            body["system"] = "\n\n".join(system)
        tools = [{"name": t.name, "description": t.description, "input_schema": t.parameters} for t in request.tools]
        if request.response_schema is not None:
            tools.append({"name": RESPOND_TOOL, "description": "Give the final answer.", "input_schema": request.response_schema})
            body["tool_choice"] = {"type": "tool", "name": RESPOND_TOOL}
        if tools:
            body["tools"] = tools
        # max_tokens is required here, so it was set above.
        body.update(self.sampling_fields(request, max_tokens=None, stop="stop_sequences"))
        if stream:
            body["stream"] = True
        body.update(request.extra)
        return body

    # ------------------------------------------------------------------ reply parsing

    def _usage(self, data: Mapping[str, Any] | None, prompt: int | None = None) -> Usage:
        data = data or {}
        p = int(prompt if prompt is not None else data.get("input_tokens") or 0)
        c = int(data.get("output_tokens") or 0)
        return Usage(prompt_tokens=p, completion_tokens=c, cost_usd=self.cost(p, c))

    @staticmethod
    def _finish(stop_reason: str | None, has_calls: bool) -> str:
        return {"end_turn": "stop", "tool_use": "tool_calls", "max_tokens": "length", "stop_sequence": "stop"}.get(
            stop_reason or "", "tool_calls" if has_calls else (stop_reason or "stop")
        )

    def _split_calls(self, calls: list[ToolCall], text: str) -> tuple[list[ToolCall], str]:
        # The forced 'respond' tool is structured output, not a tool call: its input is the reply.
        for call in calls:
            if call.name == RESPOND_TOOL:
                return [c for c in calls if c is not call], json.dumps(call.arguments)
        return calls, text

    def parse_response(self, data: Any, request: ChatRequest) -> ChatResponse:
        """A whole Messages API reply."""
        if not isinstance(data, dict) or data.get("type") == "error":
            raise self.stream_error(data if isinstance(data, dict) else {"error": {"message": str(data)}}, None)
        text, thinking, calls = "", "", []
        for block in data.get("content") or []:
            kind = block.get("type")
            if kind == "text":
                text += block.get("text", "")
            elif kind == "thinking":
                thinking += block.get("thinking", "")
            elif kind == "tool_use":
                calls.append(ToolCall(id=block.get("id", ""), name=block.get("name", ""), arguments=block.get("input") or {}))
        calls, text = self._split_calls(calls, text) if request.response_schema is not None else (calls, text)
        message = Message(role="assistant", content=text, tool_calls=calls, reasoning=thinking or None)
        return ChatResponse(
            message=message,
            usage=self._usage(data.get("usage")),
            model=str(data.get("model") or self.model),
            finish_reason="stop" if request.response_schema is not None and not calls else self._finish(data.get("stop_reason"), bool(calls)),
        )

    def stream_error(self, data: Mapping[str, Any], chunks: int | None) -> LLMError:
        """The typed error for an ``error`` event (or error body)."""
        error = data.get("error") or {}
        kind, message = str(error.get("type", "")), str(error.get("message", error))
        if kind == "rate_limit_error":
            return RateLimitError(self.provider, 1, None, message)
        if kind in ("overloaded_error", "api_error"):
            return ProviderUnavailableError(
                f"anthropic: {kind}: {message}" + (f" (after {chunks} event(s) of the stream)" if chunks else "")
                + ". Retry later or configure [model] fallback.",
                provider=self.provider,
            )
        return StreamError(f"anthropic: the stream reported {kind or 'an error'}: {message}", provider=self.provider)

    # ------------------------------------------------------------------ the Backend protocol

    def complete(self, request: ChatRequest) -> ChatResponse:
        """Send one request and return the whole reply."""
        return self.parse_response(self.post_json("/messages", self.build_body(request, stream=False)), request)

    async def acomplete(self, request: ChatRequest) -> ChatResponse:
        """Async twin of :meth:`complete`."""
        return self.parse_response(await self.apost_json("/messages", self.build_body(request, stream=False)), request)

    def stream(self, request: ChatRequest) -> Iterator[StreamChunk]:
        """Yield text as ``content_block_delta`` events arrive; tool calls and usage at the end."""
        yield from self.stream_sse("/messages", self.build_body(request, stream=True), _AnthropicStream(self, request))

    async def astream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        """Async twin of :meth:`stream`."""
        async for chunk in self.astream_sse("/messages", self.build_body(request, stream=True), _AnthropicStream(self, request)):
            yield chunk

    def list_models(self) -> list[str]:
        """Model ids from ``GET /v1/models``."""
        response = self.send("GET", "/models", read_timeout=min(self.timeout, 15.0), attempts=1)
        return sorted(str(m["id"]) for m in response.json().get("data", []))

    def health(self) -> tuple[bool, str]:
        """``(reachable, detail)`` by listing models with a short timeout."""
        try:
            models = self.list_models()
        except LLMError as exc:
            return False, str(exc)
        return True, f"{len(models)} models at {self.base_url}"


class _AnthropicStream:
    """State of one streamed Messages reply."""

    def __init__(self, backend: AnthropicBackend, request: ChatRequest) -> None:
        self.backend, self.request = backend, request
        self.blocks: dict[int, dict[str, Any]] = {}
        self.prompt_tokens: int | None = None
        self.usage: dict[str, Any] = {}
        self.stop_reason: str | None = None
        self.done = False
        self.events = 0

    def feed(self, event: SSEEvent) -> Iterator[StreamChunk]:
        if event.event == "ping" or not event.data.strip():
            return
        data = event.json(self.backend.provider)
        kind = data.get("type", event.event)
        if kind == "error" or event.event == "error":
            raise self.backend.stream_error(data, self.events)
        self.events += 1
        if kind == "message_start":
            self.prompt_tokens = int(((data.get("message") or {}).get("usage") or {}).get("input_tokens") or 0)
        elif kind == "content_block_start":
            block = dict(data.get("content_block") or {})
            block["partial"] = ""
            self.blocks[int(data.get("index", len(self.blocks)))] = block
        elif kind == "content_block_delta":
            index = int(data.get("index", 0))
            delta = data.get("delta") or {}
            block = self.blocks.setdefault(index, {"type": "text", "partial": ""})
            if delta.get("type") == "text_delta":
                if self.request.response_schema is None:
                    yield StreamChunk(content=delta.get("text", ""))
            elif delta.get("type") == "thinking_delta":
                yield StreamChunk(reasoning=delta.get("thinking", ""))
            elif delta.get("type") == "input_json_delta":
                block["partial"] += delta.get("partial_json", "")
                if block.get("name") == RESPOND_TOOL and self.request.response_schema is not None:
                    yield StreamChunk(content=delta.get("partial_json", ""))
        elif kind == "message_delta":
            self.stop_reason = (data.get("delta") or {}).get("stop_reason") or self.stop_reason
            self.usage.update(data.get("usage") or {})
        elif kind == "message_stop":
            self.done = True

    def finish(self) -> Iterator[StreamChunk]:
        if not self.done:
            raise StreamError(
                f"anthropic: the stream ended after {self.events} event(s) without message_stop; the reply is incomplete. Retry.",
                provider="anthropic",
            )
        calls = [
            ToolCall(id=b.get("id", f"toolu_{i}"), name=b.get("name", ""), arguments=parse_arguments(b["partial"]) if b["partial"] else (b.get("input") or {}))
            for i, b in sorted(self.blocks.items())
            if b.get("type") == "tool_use" and b.get("name") != RESPOND_TOOL
        ]
        finish = "stop" if self.request.response_schema is not None and not calls else AnthropicBackend._finish(self.stop_reason, bool(calls))
        yield StreamChunk(tool_calls=calls, usage=self.backend._usage(self.usage, self.prompt_tokens), finish_reason=finish)
