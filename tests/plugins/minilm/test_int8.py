"""The ``minilm-int8`` embedder: the same model with 8-bit dense layers, under its own model_id.

The immune semantic tier's head is trained on these vectors; they must be deterministic, not
depend on a text's batch, stay close to the float32 model and never be mistaken for its vectors.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import purpose_agent_minilm
from purpose_agent.errors import PluginError
from purpose_agent.testing import make_kernel
from purpose_agent_conformance import EmbedderConformance
from purpose_agent_minilm.embedder import INT8_REVISION, PIPELINE_REVISION, MiniLMEmbedder
from purpose_agent_minilm.model import BertEncoder, load_files
from purpose_agent_minilm.onnx_graph import build_graph, quantise_columns

HERE = Path(__file__).resolve().parent
REFERENCE = json.loads((HERE / "reference_vectors.json").read_text(encoding="utf-8"))
TEXTS = [row["text"] for row in REFERENCE["vectors"]]


class TestMiniLMInt8Conformance(EmbedderConformance):
    plugin = purpose_agent_minilm
    plugin_id = "minilm"
    embedder_name = "minilm-int8"


@pytest.fixture(scope="module")
def int8() -> MiniLMEmbedder:
    return MiniLMEmbedder(precision="int8")


def kernel_for(**settings: Any) -> Any:
    config = {"runtime": {"embedding_cache": False}, "plugins": {"minilm": settings}}
    return make_kernel({"minilm": purpose_agent_minilm}, config=config, strict=True)


def test_the_vectors_are_close_to_sentence_transformers_but_carry_their_own_model_id(int8: MiniLMEmbedder) -> None:
    reference = np.array([row["vector"] for row in REFERENCE["vectors"]], dtype=np.float32)
    vectors = int8.embed(TEXTS)
    cosines = (vectors * reference).sum(axis=1) / np.linalg.norm(reference, axis=1)
    # Close (the quantised model reads the same meaning) ...
    assert cosines.min() > 0.95 and cosines.mean() > 0.985, dict(zip(TEXTS, cosines.round(4).tolist(), strict=True))
    # ... but not the same vectors, so they must not share a cache key or a trained head.
    assert np.abs(vectors - reference).max() > 1e-3
    float32 = MiniLMEmbedder()
    assert int8.model_id.endswith(f"/{INT8_REVISION}-256") and float32.model_id.endswith(f"/{PIPELINE_REVISION}-256")
    assert int8.model_id.split("/")[0] == float32.model_id.split("/")[0]  # the same weights


def test_each_text_is_its_own_forward_pass_so_its_batch_cannot_move_it(int8: MiniLMEmbedder) -> None:
    assert int8.batch_size == 1
    alone = np.vstack([int8.embed([t]) for t in TEXTS])
    np.testing.assert_array_equal(int8.embed(TEXTS), alone)
    np.testing.assert_array_equal(int8.embed(list(reversed(TEXTS))), alone[::-1])


def test_quantised_columns_reconstruct_the_weights_within_half_a_step() -> None:
    rng = np.random.default_rng(7)
    weight = rng.standard_normal((384, 40)).astype(np.float32)
    weight[:, 3] = 0.0  # an all-zero column
    weight[:, 4] = np.abs(weight[:, 4])  # a column with no negative value: 0 must stay exact
    quantised, scale, zero_point = quantise_columns(weight)
    assert quantised.dtype == zero_point.dtype == np.uint8 and scale.dtype == np.float32
    restored = (quantised.astype(np.float32) - zero_point.astype(np.float32)) * scale
    assert np.all(np.abs(restored - weight) <= scale / 2 + 1e-6)
    assert np.all(restored[:, 3] == 0.0) and zero_point[4] == 0


def test_the_int8_graph_is_valid_onnx_and_the_same_bytes_every_time(int8: MiniLMEmbedder) -> None:
    import onnx

    encoder = BertEncoder(load_files(int8.archive).weights)
    graph = build_graph(encoder, int8=True)
    onnx.checker.check_model(graph, full_check=True)
    operators = [node.op_type for node in graph.graph.node]
    assert operators.count("MatMulInteger") == 24 and operators.count("DynamicQuantizeLinear") == 24
    assert graph.SerializeToString() == build_graph(encoder, int8=True).SerializeToString()


def test_the_kernel_serves_both_embedders_from_one_plugin() -> None:
    kernel = kernel_for()
    assert {"minilm", "minilm-int8"} <= set(kernel.components("embedder"))
    assert kernel.embedder().model_id != kernel.embedder("minilm-int8").model_id  # the default stays float32


def test_the_numpy_backend_setting_is_refused_for_int8_with_a_sentence() -> None:
    with pytest.raises(PluginError, match=r'minilm-int8 embedder runs on ONNX Runtime only .* backend = "numpy"'):
        MiniLMEmbedder(backend="numpy", precision="int8")
    with pytest.raises(PluginError, match=r'set backend = "auto" or "onnx"'):
        kernel_for(backend="numpy").embedder("minilm-int8")
    with pytest.raises(ValueError, match=r"unknown minilm precision 'int4'; use 'float32' or 'int8'"):
        MiniLMEmbedder(precision="int4")


def test_without_onnx_runtime_int8_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # type: ignore[arg-type]
    # float32 falls back to numpy (the same vectors); int8 cannot: numpy does not compute them.
    assert MiniLMEmbedder().backend == "numpy"
    with pytest.raises(
        PluginError,
        match=r"minilm-int8 embedder runs on ONNX Runtime, but onnxruntime is not installed\. "
        r"Install them with: pip install onnxruntime onnx",
    ):
        MiniLMEmbedder(precision="int8")
