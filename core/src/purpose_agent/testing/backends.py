"""Offline model backends for tests: a script of replies, or a function of the request."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from ..errors import PurposeAgentError
from ..models import ChatRequest, ChatResponse, Message, StreamChunk, ToolCall, Usage

Reply = str | Message | ChatResponse | dict[str, Any]


class ScriptExhausted(PurposeAgentError):
    """A :class:`ScriptedBackend` was asked for more replies than it was given."""


def _count_tokens(text: str) -> int:
    # A rough stand-in for a tokenizer: tests need stable, non-zero, growing counts.
    return max(1, len(text.split())) if text else 0


def _to_response(reply: Reply, request: ChatRequest, model: str) -> ChatResponse:
    if isinstance(reply, ChatResponse):
        return reply
    if isinstance(reply, dict):
        # A dict reply is a tool call: {"tool": name, "arguments": {...}} or structured output.
        if "tool" in reply:
            call = ToolCall(id=f"call_{len(request.messages)}", name=reply["tool"], arguments=reply.get("arguments", {}))
            message = Message(role="assistant", tool_calls=[call])
        else:
            message = Message(role="assistant", content=json.dumps(reply))
    elif isinstance(reply, Message):
        message = reply
    else:
        message = Message(role="assistant", content=str(reply))
    prompt = sum(_count_tokens(m.content) for m in request.messages)
    usage = Usage(prompt_tokens=prompt, completion_tokens=_count_tokens(message.content))
    finish = "tool_calls" if message.tool_calls else "stop"
    return ChatResponse(message=message, usage=usage, model=model, finish_reason=finish)


class _OfflineBackend:
    """Shared sync/async/stream plumbing; subclasses implement :meth:`_reply`."""

    name: str

    def __init__(self, name: str) -> None:
        self.name = name
        self.requests: list[ChatRequest] = []

    def _reply(self, request: ChatRequest) -> Reply:
        raise NotImplementedError

    # Offline backends have no native tool calling, so the actor asks them for JSON actions
    # (``purpose_agent.runtime.actor.ACTION_SCHEMA``); these build exactly the replies it accepts.

    @staticmethod
    def answer(text: str, *, thought: str = "") -> str:
        """The reply that makes the actor finish with ``text`` as the run's answer.

        ``ScriptedBackend([ScriptedBackend.answer("42")])`` runs one step and answers ``"42"``.
        """
        return json.dumps({"thought": thought, "action": "answer", "answer": text})

    @staticmethod
    def tool_call(name: str, /, **arguments: Any) -> str:
        """The reply that makes the actor call tool ``name`` with ``arguments``.

        ``ScriptedBackend.tool_call("python", code="print(1)")``; the tool must be among the run's
        tools, or the actor asks for a repair.
        """
        return json.dumps({"thought": "", "action": "tool", "tool": name, "arguments": arguments})

    def complete(self, request: ChatRequest) -> ChatResponse:
        """Record the request and return the next reply."""
        self.requests.append(request)
        return _to_response(self._reply(request), request, self.name)

    async def acomplete(self, request: ChatRequest) -> ChatResponse:
        """Async twin of :meth:`complete`."""
        return self.complete(request)

    def stream(self, request: ChatRequest) -> Iterator[StreamChunk]:
        """Yield the reply word by word, then a final chunk with usage and finish reason."""
        response = self.complete(request)
        words = response.message.content.split(" ")
        for index, word in enumerate(words):
            if word or index:
                yield StreamChunk(content=word if index == 0 else " " + word)
        yield StreamChunk(
            tool_calls=response.message.tool_calls, usage=response.usage, finish_reason=response.finish_reason
        )

    async def astream(self, request: ChatRequest) -> AsyncIterator[StreamChunk]:
        """Async twin of :meth:`stream`."""
        for chunk in self.stream(request):
            yield chunk

    def health(self) -> tuple[bool, str]:
        """Always reachable: it is in-process."""
        return True, "offline test backend"


class ScriptedBackend(_OfflineBackend):
    """Replies with the given script, in order; raises :class:`ScriptExhausted` after the last.

    A reply may be a string (assistant text), a :class:`Message`, a :class:`ChatResponse`, or a
    dict: ``{"tool": name, "arguments": {...}}`` for a native tool call, any other dict for JSON
    text. An agent's actor reads each reply as one JSON action: script it with
    :meth:`answer` and :meth:`tool_call` (plain text such as ``"hello"`` is not an action; the
    actor asks once for a repair, then stops without an answer and says why)::

        ScriptedBackend([ScriptedBackend.tool_call("python", code="print(2 + 2)"),
                         ScriptedBackend.answer("4")])
    """

    def __init__(self, replies: Sequence[Reply], *, name: str = "scripted:test", repeat_last: bool = False) -> None:
        super().__init__(name)
        self._replies = list(replies)
        self._position = 0
        self._repeat_last = repeat_last

    def _reply(self, request: ChatRequest) -> Reply:
        if self._position >= len(self._replies):
            if self._repeat_last and self._replies:
                return self._replies[-1]
            raise ScriptExhausted(
                f"{self.name} was asked for reply {self._position + 1} but its script has "
                f"{len(self._replies)}; add replies or pass repeat_last=True"
            )
        reply = self._replies[self._position]
        self._position += 1
        return reply


class FunctionBackend(_OfflineBackend):
    """Replies with ``function(request)``: for tests whose reply depends on the prompt."""

    def __init__(self, function: Callable[[ChatRequest], Reply], *, name: str = "function:test") -> None:
        super().__init__(name)
        self._function = function

    def _reply(self, request: ChatRequest) -> Reply:
        return self._function(request)
