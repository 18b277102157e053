"""Provider embedders (OpenAI's ``/embeddings``, Ollama's ``/api/embed``) against a real loopback server.

The server (:class:`purpose_agent_http.testing.FakeLLMServer`) speaks both protocols with hashed
bag-of-words vectors scaled by 3 (so the client must normalise them) and OpenAI's items in
reverse order (so the client must place them by ``index``). The conformance suite runs through
the kernel exactly as a user's ``[plugins.openai]`` / ``[plugins.ollama]`` section would set it up.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import purpose_agent_ollama
import purpose_agent_openai
from purpose_agent.errors import (
    AuthenticationError,
    MissingAPIKeyError,
    ProviderUnavailableError,
    ResponseFormatError,
    UnknownComponentError,
)
from purpose_agent.testing import make_kernel
from purpose_agent_conformance import EmbedderConformance
from purpose_agent_http.testing import FakeLLMServer, FakeResponse

KEY_ENV = "PA_TEST_EMBEDDINGS_KEY"
# Tiny waits so retry tests stay fast; what is tested is the count and the outcome.
FAST = {"max_retries": 2, "retry_base_delay": 0.01, "retry_max_delay": 0.02, "timeout": 5.0}

# Started at import: the conformance classes' ``config`` (a class attribute) needs its URL.
SERVER = FakeLLMServer().start()


@pytest.fixture(scope="module", autouse=True)
def server() -> Iterator[FakeLLMServer]:
    yield SERVER
    SERVER.stop()


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-test")
    SERVER.requests.clear()


def openai_config(**settings: Any) -> dict[str, Any]:
    return {"plugins": {"openai": {"base_url": SERVER.url + "/v1", "api_key_env": KEY_ENV, **FAST, **settings}}}


def ollama_config(**settings: Any) -> dict[str, Any]:
    return {"plugins": {"ollama": {"base_url": SERVER.url, **FAST, **settings}}}


def openai_embedder(**settings: Any) -> Any:
    return make_kernel({"openai": purpose_agent_openai.plugin}, config=openai_config(**settings),
                       strict=True).create("embedder", "openai")


def embed_requests() -> list[Any]:
    return [r for r in SERVER.requests if r.path.endswith("/embeddings") or r.path == "/api/embed"]


class TestOpenAIEmbedderConformance(EmbedderConformance):
    plugin = purpose_agent_openai.plugin
    plugin_id = "openai"
    embedder_name = "openai"
    config = openai_config()


class TestOllamaEmbedderConformance(EmbedderConformance):
    plugin = purpose_agent_ollama.plugin
    plugin_id = "ollama"
    embedder_name = "ollama"
    config = ollama_config()


def test_requests_carry_the_model_the_key_and_batches_of_the_configured_size() -> None:
    embedder = openai_embedder(embedding_model="my-embed", embedding_batch_size=3)
    texts = [f"text number {i}" for i in range(7)]
    vectors = embedder.embed(texts)
    requests = embed_requests()
    assert [len(r.body["input"]) for r in requests] == [3, 3, 1]
    assert {r.body["model"] for r in requests} == {"my-embed"}
    assert {r.headers.get("Authorization") for r in requests} == {"Bearer sk-test"}
    # Rows come back in input order although the server lists them in reverse.
    for text, row in zip(texts, vectors, strict=True):
        np.testing.assert_allclose(row, embedder.embed([text])[0], atol=1e-6)


def test_default_model_and_the_requested_dimension() -> None:
    assert openai_embedder().model == "text-embedding-3-small"
    embedder = openai_embedder(embedding_dimensions=16)
    assert embedder.embed(["hello world"]).shape == (1, 16)
    assert embed_requests()[-1].body["dimensions"] == 16
    assert embedder.model_id.startswith("openai:text-embedding-3-small@16d")


def test_the_model_id_names_the_server_when_it_is_not_the_providers_own() -> None:
    assert openai_embedder().model_id.endswith("@" + SERVER.url.split("://", 1)[1])


def test_long_texts_are_cut_to_max_chars_before_they_are_sent() -> None:
    openai_embedder(embedding_max_chars=100).embed(["x" * 5000, "   "])
    sent = embed_requests()[-1].body["input"]
    assert [len(t) for t in sent] == [100, 1]  # a blank text is sent as one space, not rejected


def test_ollama_speaks_api_embed_and_asks_for_truncation() -> None:
    kernel = make_kernel({"ollama": purpose_agent_ollama.plugin}, config=ollama_config(), strict=True)
    embedder = kernel.create("embedder", "ollama")
    assert embedder.embed(["a b", "c d"]).shape == (2, 32)
    request = embed_requests()[-1]
    assert request.path == "/api/embed"
    assert request.body == {"model": "nomic-embed-text", "input": ["a b", "c d"], "truncate": True}
    assert embedder.remote is False  # a loopback server


def test_a_429_is_retried_and_a_401_is_not() -> None:
    SERVER.queue("/v1/embeddings", FakeResponse(status=429, headers={"Retry-After": "0"}))
    assert openai_embedder().embed(["retry me"]).shape[0] == 1
    assert len(embed_requests()) == 2
    SERVER.requests.clear()
    SERVER.queue("/v1/embeddings", FakeResponse(status=401, json_body={"error": {"message": "bad key"}}))
    with pytest.raises(AuthenticationError):
        openai_embedder().embed(["no entry"])
    assert len(embed_requests()) == 1


def test_persistent_500s_end_in_provider_unavailable() -> None:
    SERVER.queue("/v1/embeddings", *[FakeResponse(status=500, body=b"oops")] * 3)
    with pytest.raises(ProviderUnavailableError):
        openai_embedder().embed(["down"])


@pytest.mark.parametrize("reply, problem", [
    (FakeResponse(body=b"<html>gateway</html>"), "not valid JSON"),
    (FakeResponse(json_body={"object": "list"}), "no 'data' list"),
    (FakeResponse(json_body={"data": [{"index": 0, "embedding": [0.1, 0.2]}]}), "1 vectors for 2 texts"),
    (FakeResponse(json_body={"data": [{"index": 0, "embedding": [0.1, "x"]}, {"index": 1, "embedding": [1, 2]}]}),
     "not a non-empty list of finite numbers"),
    (FakeResponse(json_body={"data": [{"index": 0, "embedding": [0.0, 0.0]}, {"index": 1, "embedding": [1, 2]}]}),
     "length zero"),
    (FakeResponse(json_body={"data": [{"index": 0, "embedding": [1.0, 0.0]}, {"index": 1, "embedding": [1, 2, 3]}]}),
     "3 numbers where 2 were expected"),
])
def test_a_garbage_reply_is_a_response_format_error_that_says_what_is_wrong(reply: FakeResponse, problem: str) -> None:
    SERVER.queue("/v1/embeddings", reply)
    with pytest.raises(ResponseFormatError, match=problem):
        openai_embedder().embed(["one", "two"])


def test_a_missing_key_is_reported_before_anything_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(MissingAPIKeyError):
        openai_embedder().embed(["secret lesson"])
    assert embed_requests() == []


def test_an_unknown_embedding_setting_is_rejected_for_a_provider_without_embeddings() -> None:
    import purpose_agent_groq

    kernel = make_kernel({"groq": purpose_agent_groq.plugin}, config={"plugins": {"groq": {"embedding_model": "x"}}})
    assert "embedding_model" in (kernel.records["groq"].reason or "")


def test_a_remote_embedder_is_never_the_default_unless_configured() -> None:
    hosted = {"plugins": {"openai": {"api_key_env": KEY_ENV}}}  # api.openai.com: off this machine
    kernel = make_kernel({"openai": purpose_agent_openai.plugin}, config=hosted, strict=True)
    with pytest.raises(UnknownComponentError, match=r"sends text off this machine.*\[runtime\] embedder = \"openai\""):
        kernel.embedder()
    named = make_kernel({"openai": purpose_agent_openai.plugin},
                        config={**hosted, "runtime": {"embedder": "openai", "embedding_cache": False}}, strict=True)
    assert named.embedder().inner.remote is True
    # A server on this machine is local: it may be the default when it is the only embedder.
    local = make_kernel({"openai": purpose_agent_openai.plugin},
                        config={**openai_config(), "runtime": {"embedding_cache": False}}, strict=True)
    assert local.embedder().inner.remote is False
