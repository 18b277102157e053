"""The ``openai`` embedder against a real OpenAI-compatible server: llama-cpp-python's, on loopback.

The model is the tiny deterministic GGUF of ``tiny_gguf.py`` (its vectors mean nothing; the
protocol facts do): written once with mean pooling, as a sentence-embedding model is, and once
without, as a chat model is, for which the server answers one vector per token.

Skipped, with the reason, when llama-cpp-python (or its ``[server]`` extra) or ``gguf`` is missing.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from purpose_agent.errors import ResponseFormatError
from purpose_agent.testing import make_kernel

pytest.importorskip("gguf", reason="the gguf package is not installed (pip install gguf)")
pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (pip install 'llama-cpp-python[server]')")
for _extra in ("fastapi", "uvicorn", "sse_starlette", "starlette_context", "pydantic_settings"):
    pytest.importorskip(_extra, reason=f"llama-cpp-python's server extra is not installed ({_extra} missing)")

if str(Path(__file__).parent) not in sys.path:  # the generator and the server helper sit next to this file
    sys.path.insert(0, str(Path(__file__).parent))
import tiny_gguf  # noqa: E402
from test_tiny_gguf_server import _start, _stop  # noqa: E402


def _serve(tmp_path_factory: pytest.TempPathFactory, *, mean_pooling: bool) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("embedding-server")
    model = tiny_gguf.write_tiny_gguf(folder / "tiny.gguf", mean_pooling=mean_pooling)
    proc, url = _start(model, folder / "server.log", ("--embedding", "true"))
    try:
        yield url
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def pooled_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _serve(tmp_path_factory, mean_pooling=True)


def embedder(url: str, monkeypatch: pytest.MonkeyPatch, **settings: Any) -> Any:
    import purpose_agent_openai

    monkeypatch.setenv("OPENAI_API_KEY", "local")
    config = {"plugins": {"openai": {"base_url": url, "timeout": 20, "max_retries": 0, "embedding_model": "tiny",
                                     **settings}}}
    return make_kernel({"openai": purpose_agent_openai.plugin}, config=config, strict=True).create("embedder", "openai")


def test_one_unit_vector_per_text_in_input_order(pooled_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    model = embedder(pooled_server, monkeypatch, embedding_batch_size=2)
    texts = ["hello world", "a", "the quick brown fox jumps", "", "x" * 20_000]
    vectors = model.embed(texts)
    assert vectors.shape == (5, tiny_gguf.N_EMBD) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    for text, row in zip(texts[:3], vectors, strict=False):
        np.testing.assert_allclose(model.embed([text])[0], row, atol=1e-5)
    assert model.remote is False and model.dimension == tiny_gguf.N_EMBD


def test_a_model_without_pooling_is_reported_as_such(tmp_path_factory: pytest.TempPathFactory,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    for url in _serve(tmp_path_factory, mean_pooling=False):
        with pytest.raises(ResponseFormatError, match="one vector per token"):
            embedder(url, monkeypatch).embed(["hello world"])
