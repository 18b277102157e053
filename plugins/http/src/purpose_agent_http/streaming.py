"""Parsers for the two streaming wire formats providers use: SSE and NDJSON.

Both work on lines (as ``httpx.Response.iter_lines`` gives them), with sync and async twins that
share one decoder, so the two paths cannot drift apart.

SSE (``text/event-stream``): ``field: value`` lines, a blank line ends an event, lines starting
with ``:`` are comments (OpenRouter sends ``: OPENROUTER PROCESSING`` keep-alives), several
``data:`` lines in one event are joined with newlines. OpenAI-style streams end with
``data: [DONE]``; Anthropic names its events (``event: content_block_delta``).

NDJSON (Ollama): one JSON object per line.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from purpose_agent.errors import ResponseFormatError


@dataclass(frozen=True)
class SSEEvent:
    """One server-sent event: its name (``message`` when unnamed) and its data text."""

    event: str
    data: str

    def json(self, provider: str = "") -> Any:
        """The data parsed as JSON; a readable error if it is not JSON."""
        return parse_json(self.data, provider=provider, what=f"stream event '{self.event}'")



def _json_problem(exc: ValueError) -> str:
    """Where a JSON document broke; undecodable bytes (UnicodeDecodeError) say so instead."""
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at position {exc.pos}"
    return f"not UTF-8: {exc}"

def parse_json(text: str, *, provider: str = "", what: str = "response") -> Any:
    """``json.loads`` that fails with a sentence naming the provider and a snippet of the text."""
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        snippet = text[:120] + ("…" if len(text) > 120 else "")
        raise ResponseFormatError(
            f"{provider or 'provider'}: the {what} is not valid JSON ({_json_problem(exc)}): {snippet!r}. "
            "The server may be overloaded or not speak this protocol; check the base URL.",
            provider=provider,
        ) from exc


class SSEDecoder:
    """Incremental SSE decoder: feed it lines, get complete events back."""

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []

    def feed(self, line: str) -> SSEEvent | None:
        """Take one line (without its newline); return an event when a blank line completes one."""
        line = line.rstrip("\r")
        if not line:
            return self.flush()
        if line.startswith(":"):
            return None  # comment / keep-alive
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._event = value
        # "id" and "retry" are not used by any LLM provider's protocol; ignored per the SSE spec.
        return None

    def flush(self) -> SSEEvent | None:
        """Return the pending event, if any (a stream may end without a final blank line)."""
        if not self._data and not self._event:
            return None
        event = SSEEvent(event=self._event or "message", data="\n".join(self._data))
        self._event, self._data = "", []
        return event

    def feed_chunk(self, chunk: str) -> tuple[SSEEvent, ...]:
        """Take a chunk of one or more lines; return the events it completes."""
        if "\n" not in chunk:  # the usual case: one line (a tuple, not a generator, costs less per line)
            event = self.feed(chunk)
            return () if event is None else (event,)
        return tuple(event for line in chunk.split("\n") if (event := self.feed(line)) is not None)

    def finish(self) -> tuple[SSEEvent, ...]:
        """The pending event at the end of the stream, if any."""
        last = self.flush()
        return () if last is None else (last,)


def _lines(chunk: str) -> Iterable[str]:
    # httpx's iter_lines already splits, but a transport may hand over chunks with several lines.
    return chunk.split("\n") if "\n" in chunk else (chunk,)


def iter_sse(lines: Iterable[str]) -> Iterator[SSEEvent]:
    """Yield the events of an SSE stream given as lines."""
    decoder = SSEDecoder()
    for chunk in lines:
        yield from decoder.feed_chunk(chunk)
    yield from decoder.finish()


async def aiter_sse(lines: AsyncIterable[str]) -> AsyncIterator[SSEEvent]:
    """Async twin of :func:`iter_sse`."""
    decoder = SSEDecoder()
    async for chunk in lines:
        for event in decoder.feed_chunk(chunk):
            yield event
    for event in decoder.finish():
        yield event


def _json_lines(chunk: str, provider: str) -> Iterator[Any]:
    """One parsed JSON value per non-blank line of ``chunk``."""
    for line in _lines(chunk):
        if line.strip():
            yield parse_json(line, provider=provider, what="stream line")


def iter_ndjson(lines: Iterable[str], *, provider: str = "") -> Iterator[Any]:
    """Yield one parsed JSON value per non-blank line."""
    for chunk in lines:
        yield from _json_lines(chunk, provider)


async def aiter_ndjson(lines: AsyncIterable[str], *, provider: str = "") -> AsyncIterator[Any]:
    """Async twin of :func:`iter_ndjson`."""
    async for chunk in lines:
        for value in _json_lines(chunk, provider):
            yield value
