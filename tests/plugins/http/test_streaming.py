"""SSE and NDJSON parsing, as providers really send them."""

from __future__ import annotations

import asyncio

import pytest

from purpose_agent.errors import ResponseFormatError
from purpose_agent_http import (
    RetryPolicy,
    aiter_ndjson,
    aiter_sse,
    iter_ndjson,
    iter_sse,
    parse_duration,
    parse_retry_after,
)


def test_sse_skips_comments_and_joins_multiline_data() -> None:
    lines = [": OPENROUTER PROCESSING", "", "data: {\"a\":", "data: 1}", "", "event: ping", "data: {}", "", "data: [DONE]"]
    events = list(iter_sse(lines))
    assert [(e.event, e.data) for e in events] == [("message", '{"a":\n1}'), ("ping", "{}"), ("message", "[DONE]")]
    assert events[0].json() == {"a": 1}


def test_sse_handles_crlf_and_chunks_holding_several_lines() -> None:
    events = list(iter_sse(["data: one\r", "\r", "data: two\n\ndata: three\n"]))
    assert [e.data for e in events] == ["one", "two", "three"]


def test_async_sse_matches_sync() -> None:
    lines = ["event: content_block_delta", "data: {\"x\": 1}", "", ":keepalive", "data: y", ""]

    async def collect() -> list[tuple[str, str]]:
        async def source():  # type: ignore[no-untyped-def]
            for line in lines:
                yield line

        return [(e.event, e.data) async for e in aiter_sse(source())]

    assert asyncio.run(collect()) == [(e.event, e.data) for e in iter_sse(lines)]


def test_ndjson_parses_lines_and_names_broken_json() -> None:
    assert list(iter_ndjson(['{"a": 1}', "", '{"b": 2}'])) == [{"a": 1}, {"b": 2}]
    with pytest.raises(ResponseFormatError, match="ollama: the stream line is not valid JSON"):
        list(iter_ndjson(['{"a": 1}', '{"b": '], provider="ollama"))

    async def collect() -> list[object]:
        async def source():  # type: ignore[no-untyped-def]
            yield '{"a": 1}\n{"b": 2}'

        return [x async for x in aiter_ndjson(source())]

    assert asyncio.run(collect()) == [{"a": 1}, {"b": 2}]


def test_retry_after_and_reset_durations() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    assert parse_duration("6m0s") == 360.0
    assert parse_duration("2m59.56s") == pytest.approx(179.56)
    assert parse_duration("250ms") == pytest.approx(0.25)
    assert parse_duration("1.5") == 1.5
    assert parse_duration("abc") is None


def test_backoff_grows_is_capped_and_jittered() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=4.0, jitter=False)
    assert [policy.backoff(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 4.0]
    jittered = RetryPolicy(base_delay=1.0, max_delay=4.0)
    assert all(0 <= jittered.backoff(3) <= 4.0 for _ in range(50))
    assert len({jittered.backoff(3) for _ in range(20)}) > 1
    assert RetryPolicy(max_wait=5).delay(1, server_wait=3600) == 5
