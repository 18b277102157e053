"""A third-party provider (tests/fixtures/dists/pa-fixture-provider, installed for real) takes part
in the default chain and in cost-aware routing through the backend_profiles hook, with no change
to the kernel: what the kernel once hard-coded per provider now comes from the plugins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

NOBODY = "http://127.0.0.1:9"  # an Ollama address where nothing listens

PROBE = """
import json, sys
from purpose_agent import resolve_backend
from purpose_agent.models import ChatRequest, Message

resolution = resolve_backend(None)
out = {"spec": resolution.spec, "source": resolution.source}
if sys.argv[1:] == ["call"]:
    reply = resolution.backend.complete(ChatRequest(messages=[Message(role="user", content="hi")]))
    out.update(used=getattr(resolution.backend, "last_used", resolution.backend).name, text=reply.message.content,
               cost=reply.usage.cost_usd, tokens=[reply.usage.prompt_tokens, reply.usage.completion_tokens])
print(json.dumps(out))
"""


def resolve_in(site: Path, environ: dict[str, str], *, call: bool = True) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_TOKEN"))}
    env.update(PYTHONPATH=os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH", "")])),
               OLLAMA_HOST=NOBODY, **environ)
    result = subprocess.run([sys.executable, "-c", PROBE, *(["call"] if call else [])], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_its_key_makes_it_the_default_above_the_workspace_providers(fixture_site: Path, server: Any) -> None:
    (Path.cwd() / "purpose-agent.toml").write_text(f'[plugins.fixture-acme]\nbase_url = "{server.url}/v1"\n')
    chosen = resolve_in(fixture_site, {"ACME_API_KEY": "k", "OPENAI_API_KEY": "k"})
    assert (chosen["spec"], chosen["source"]) == ("fixture-acme:", "environment: ACME_API_KEY is set")
    # a real call through its backend, priced with the prices it declared (USD 0.01 / 0.02 per 1M tokens)
    prompt, completion = chosen["tokens"]
    assert chosen["text"] == "hello" and prompt > 0
    assert chosen["cost"] == pytest.approx((prompt * 0.01 + completion * 0.02) / 1e6)
    # without its key it takes no part, and the workspace's order holds
    assert resolve_in(fixture_site, {"OPENAI_API_KEY": "k"}, call=False)["source"] == "environment: OPENAI_API_KEY is set"


def test_cost_routing_puts_it_where_its_prices_say(fixture_site: Path, server: Any) -> None:
    (Path.cwd() / "purpose-agent.toml").write_text(
        "[model]\n"
        'default = "openai:gpt-4o"\n'
        'fallback = ["fixture-acme:acme-max", "groq:llama-3.1-8b-instant", "fixture-acme:acme-mini"]\n'
        'routing = "cheapest"\n'
        f'[plugins.fixture-acme]\nbase_url = "{server.url}/v1"\n'
    )
    routed = resolve_in(fixture_site, {"ACME_API_KEY": "k"})
    assert routed["spec"] == ("fixture-acme:acme-mini -> groq:llama-3.1-8b-instant -> openai:gpt-4o -> "
                              "fixture-acme:acme-max")
    assert routed["used"] == "fixture-acme:acme-mini" and routed["text"] == "hello"
