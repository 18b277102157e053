"""Every provider package passes the kernel's BackendConformance suite, against a loopback server.

The plugin is loaded through its real hooks (settings model, register_backends) with its
base URL pointed at :class:`~purpose_agent_http.testing.FakeLLMServer`, which speaks the
OpenAI, Ollama and Anthropic protocols.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest

from purpose_agent.testing import make_kernel
from purpose_agent_conformance import BackendConformance
from purpose_agent_http.testing import FakeLLMServer

#: provider id -> (key variable or None, path prefix of its API on the server)
PROVIDERS: dict[str, tuple[str | None, str]] = {
    "openai": ("OPENAI_API_KEY", "/v1"),
    "groq": ("GROQ_API_KEY", "/openai/v1"),
    "openrouter": ("OPENROUTER_API_KEY", "/api/v1"),
    "together": ("TOGETHER_API_KEY", "/v1"),
    "fireworks": ("FIREWORKS_API_KEY", "/inference/v1"),
    "cerebras": ("CEREBRAS_API_KEY", "/v1"),
    "deepseek": ("DEEPSEEK_API_KEY", "/v1"),
    "mistral": ("MISTRAL_API_KEY", "/v1"),
    "hf": ("HF_TOKEN", "/v1"),
    "ollama": (None, ""),
    "anthropic": ("ANTHROPIC_API_KEY", "/v1"),
}


class _ProviderConformance(BackendConformance):
    provider_id: str = ""

    @pytest.fixture
    def kernel(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
        env, prefix = PROVIDERS[self.provider_id]
        if env:
            monkeypatch.setenv(env, "test-key")
        with FakeLLMServer() as server:
            config = {"plugins": {self.provider_id: {"base_url": server.url + prefix, "max_retries": 0, "timeout": 5}}}
            yield make_kernel(self.plugin, config=config, strict=True)


def _suite(provider_id: str) -> type:
    # The object the package's entry point names, with the id that entry point gives it.
    plugin = importlib.import_module(f"purpose_agent_{provider_id}").plugin
    model = "fake-model:latest" if provider_id == "ollama" else "fake-model"
    return type(
        f"Test{provider_id.title()}Conformance",
        (_ProviderConformance,),
        {"plugin": plugin, "provider_id": provider_id, "backend_spec": f"{provider_id}:{model}"},
    )


for _id in PROVIDERS:
    globals()[f"Test{_id.title()}Conformance"] = _suite(_id)


@pytest.mark.parametrize("provider_id", sorted(PROVIDERS))
def test_plugin_module_imports_nothing_heavy(provider_id: str) -> None:
    import subprocess
    import sys

    code = (
        f"import sys, purpose_agent_{provider_id} as p; "
        "heavy = sorted(m for m in ('httpx', 'pydantic', 'purpose_agent_http.http', 'llama_cpp') if m in sys.modules); "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"importing purpose_agent_{provider_id} pulled in {out}"
