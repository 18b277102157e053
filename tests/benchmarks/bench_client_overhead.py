"""Per-request client overhead: purpose-agent's OpenAI-compatible client vs the official SDK.

Both talk to the same loopback fake server in one run, alternating blocks so machine noise hits
both alike. The server's own time is identical for both, so the difference is client overhead.
Prints a table, and JSON on the last line. Run: .venv/bin/python tests/benchmarks/bench_client_overhead.py
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from purpose_agent.models import ChatRequest, Message
from purpose_agent_http import OpenAICompatibleBackend
from purpose_agent_http.testing import FakeLLMServer

ROUNDS, PER_ROUND = 10, 30


def timed(fn, n: int) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> int:
    try:
        import openai
    except ImportError:
        print("the openai SDK is not installed (pip install openai); nothing to compare against")
        return 1
    with FakeLLMServer() as server:
        ours = OpenAICompatibleBackend("fake-model", base_url=server.url + "/v1", api_key="k")
        sdk = openai.OpenAI(base_url=server.url + "/v1", api_key="k", max_retries=0)
        request = ChatRequest(messages=[Message(role="user", content="Reply with the single word: hello")], max_tokens=8)
        raw = [{"role": "user", "content": "Reply with the single word: hello"}]

        cases = {
            "complete/purpose-agent": lambda: ours.complete(request),
            "complete/openai-sdk": lambda: sdk.chat.completions.create(model="fake-model", messages=raw, max_tokens=8),
            "stream/purpose-agent": lambda: list(ours.stream(request)),
            "stream/openai-sdk": lambda: list(sdk.chat.completions.create(model="fake-model", messages=raw, max_tokens=8, stream=True)),
        }
        for fn in cases.values():  # warm up connections and lazy imports
            timed(fn, 5)
        samples: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(ROUNDS):
            for name, fn in cases.items():
                samples[name] += timed(fn, PER_ROUND)
    medians = {name: statistics.median(values) * 1e6 for name, values in samples.items()}
    print(f"{'case':28} {'median µs':>10} {'p90 µs':>10}  (n={ROUNDS * PER_ROUND} each)")
    for name, values in samples.items():
        p90 = statistics.quantiles(values, n=10)[-1] * 1e6
        print(f"{name:28} {medians[name]:10.0f} {p90:10.0f}")
    result = {
        "complete_us": {"purpose_agent": round(medians["complete/purpose-agent"]), "openai_sdk": round(medians["complete/openai-sdk"])},
        "stream_us": {"purpose_agent": round(medians["stream/purpose-agent"]), "openai_sdk": round(medians["stream/openai-sdk"])},
        "complete_ratio": round(medians["complete/purpose-agent"] / medians["complete/openai-sdk"], 3),
        "stream_ratio": round(medians["stream/purpose-agent"] / medians["stream/openai-sdk"], 3),
        "target": "ratio <= 1.0",
        "openai_version": openai.__version__,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
