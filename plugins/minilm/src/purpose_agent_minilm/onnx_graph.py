"""The same encoder as :class:`~purpose_agent_minilm.model.BertEncoder`, as an ONNX graph run by ONNX Runtime.

The graph is built in memory with ``onnx.helper`` from the very arrays ``BertEncoder`` prepares
from ``model.safetensors`` (fused and pre-scaled query/key/value, transposed matrices, the type
embedding folded into the position table), so both backends compute one function and differ only
by float rounding. Nothing is downloaded, exported from torch or read from an ``.onnx`` file: the
graph is reproducible from the weights by construction.

Why a second backend: one lesson of ~25 word pieces is ~0.5 GFLOP of small matrix products, and
ONNX Runtime's CPU kernels (pre-packed weights, fused LayerNorm/GELU/attention steps, no Python
between operations) do them faster than numpy's OpenBLAS does here; see docs/embeddings.md.

The graph takes ``input_ids`` (int64, batch x length) and ``attention_mask`` (float32, 1 for a
real piece, 0 for padding) and returns the mean-pooled, L2-normalised sentence vectors (float32,
batch x 384): the whole pipeline after tokenisation, so a call crosses into ONNX Runtime once.

``onnx`` and ``onnxruntime`` are imported only when a graph is built.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .model import HEAD_SIZE, HEADS, HIDDEN, LAYER_NORM_EPS, BertEncoder

#: ONNX operator set of the graph: 17 is the first with LayerNormalization; nothing newer is
#: needed (GELU is written with Erf, which ONNX Runtime fuses into one kernel).
OPSET = 17
#: The IR version that goes with opset 17, so any ONNX Runtime since 1.14 reads the graph.
IR_VERSION = 8
# The same additive mask as the numpy encoder: exp() of a score this low is exactly 0 in float32.
_MASKED = -1e9
_NORM_FLOOR = 1e-12


def quantise_columns(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``weight`` (in, out) as uint8 per output column: (quantised, scale (out,), zero point (out,)).

    Asymmetric over each column's range widened to include 0 (so 0 is exact), as ONNX's
    ``DynamicQuantizeLinear`` does for activations: ``weight ~ (quantised - zero_point) * scale``.
    Unsigned rather than signed 8 bits: ONNX Runtime multiplies uint8 by uint8 exactly on every CPU,
    while uint8 by int8 on AVX2 adds pairs of products in saturating 16-bit lanes (a vector then
    depends on the CPU); the unsigned graph ran as fast here and was closer to float32.
    """
    low = np.minimum(weight.min(axis=0), 0.0).astype(np.float32)
    high = np.maximum(weight.max(axis=0), 0.0).astype(np.float32)
    scale = ((high - low) / np.float32(255)).astype(np.float32)
    scale[scale == 0] = np.float32(1)  # an all-zero column: any scale represents it
    zero_point = np.clip(np.rint(-low / scale), 0, 255).astype(np.uint8)
    quantised = np.clip(np.rint(weight / scale) + zero_point, 0, 255).astype(np.uint8)
    return quantised, scale, zero_point


def build_graph(encoder: BertEncoder, *, int8: bool = False) -> Any:
    """The ``onnx.ModelProto`` of ``encoder``'s forward pass plus mean pooling and normalisation.

    ``int8``: the 24 dense layers (query/key/value, attention output, intermediate, output; 98% of
    the arithmetic for a lesson) multiply 8-bit integers instead of floats: each weight matrix is
    quantised per output column at build time (:func:`quantise_columns`), and each layer's input
    per tensor when the graph runs (``DynamicQuantizeLinear``: one scale for the whole input, so a
    text must be run alone for its vector not to depend on its batch). The word-embedding table,
    attention, LayerNorm, GELU and pooling stay float32. About twice as fast on one core; the
    vectors differ from float32 ones (cosine ~0.99), so they carry another ``model_id``.
    """
    from onnx import TensorProto, helper, numpy_helper

    nodes: list[Any] = []
    initializers: list[Any] = []

    def constant(name: str, value: Any, dtype: Any = np.float32) -> str:
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(np.asarray(value, dtype=dtype)), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attributes: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [output], name=output, **attributes))
        return output

    def layer_norm(x: str, gamma: np.ndarray, beta: np.ndarray, name: str) -> str:
        return node(
            "LayerNormalization",
            [x, constant(f"{name}.gamma", gamma), constant(f"{name}.beta", beta)],
            name,
            axis=-1,
            epsilon=LAYER_NORM_EPS,
        )

    def dense(x: str, weight: np.ndarray, bias: np.ndarray, name: str) -> str:
        if not int8:
            product = node("MatMul", [x, constant(f"{name}.weight", weight)], f"{name}.product")
            return node("Add", [product, constant(f"{name}.bias", bias)], name)
        # The layout ONNX Runtime fuses into one quantise-and-multiply kernel (DynamicQuantizeMatMul).
        quantised, scale, zero_point = quantise_columns(weight)
        nodes.append(
            helper.make_node(
                "DynamicQuantizeLinear", [x], [f"{name}.x8", f"{name}.x_scale", f"{name}.x_zero"], name=f"{name}.x8"
            )
        )
        integers = node(
            "MatMulInteger",
            [
                f"{name}.x8",
                constant(f"{name}.weight8", quantised, np.uint8),
                f"{name}.x_zero",
                constant(f"{name}.weight_zero", zero_point, np.uint8),
            ],
            f"{name}.integers",
        )
        floats = node("Cast", [integers], f"{name}.floats", to=TensorProto.FLOAT)
        scales = node("Mul", [f"{name}.x_scale", constant(f"{name}.weight_scale", scale)], f"{name}.scales")
        product = node("Mul", [floats, scales], f"{name}.product")
        return node("Add", [product, constant(f"{name}.bias", bias)], name)

    # Hidden states are kept 2-D, (batch*length, 384), so that each MatMul + bias Add becomes one
    # Gemm-like kernel; they are reshaped to (batch, length, heads, 32) only for attention.
    one = constant("one", 1.0)
    half = constant("half", 0.5)
    sqrt2 = constant("sqrt2", np.sqrt(2.0))
    flat_shape = constant("flat_shape", [-1, HIDDEN], np.int64)
    batch_and_length = node("Shape", ["input_ids"], "batch_and_length")
    heads_shape = node(
        "Concat", [batch_and_length, constant("head_dims", [HEADS, HEAD_SIZE], np.int64)], "heads_shape", axis=0
    )

    # Embeddings: word + (position + type 0), for positions 0 .. length-1.
    length = node("Shape", ["input_ids"], "length", start=1, end=2)
    words = node("Gather", [constant("word_embeddings", encoder.word_embeddings), "input_ids"], "words")
    zero = constant("zero_index", [0], np.int64)
    positions = node("Slice", [constant("positions", encoder.positions), zero, length, zero], "position_rows")
    embedded = node("Reshape", [node("Add", [words, positions], "embedded3"), flat_shape], "embedded")
    x = layer_norm(embedded, *encoder.embedding_norm, "embedding_norm")

    # Padded keys get -1e9 added to their scores: (batch, 1, 1, length).
    unmasked = node("Sub", [one, "attention_mask"], "unmasked")
    key_bias_flat = node("Mul", [unmasked, constant("masked", _MASKED)], "key_bias_flat")
    key_bias = node("Unsqueeze", [key_bias_flat, constant("key_bias_axes", [1, 2], np.int64)], "key_bias")

    for i, layer in enumerate(encoder.layers):
        p = f"layer{i}"
        qkv = dense(x, layer.qkv, layer.qkv_bias, f"{p}.qkv")
        nodes.append(
            helper.make_node(
                "Split",
                [qkv, constant(f"{p}.split", [HIDDEN] * 3, np.int64)],
                [f"{p}.q", f"{p}.k", f"{p}.v"],
                name=f"{p}.split",
                axis=-1,
            )
        )

        def heads(name: str, perm: list[int], p: str = p) -> str:
            """(batch*length, 384) -> (batch, heads, length, 32), or with ``perm`` (.., 32, length)."""
            return node(
                "Transpose", [node("Reshape", [f"{p}.{name}", heads_shape], f"{p}.{name}4")], f"{p}.{name}h", perm=perm
            )

        q, k, v = heads("q", [0, 2, 1, 3]), heads("k", [0, 2, 3, 1]), heads("v", [0, 2, 1, 3])
        scores = node("Add", [node("MatMul", [q, k], f"{p}.scores_raw"), key_bias], f"{p}.scores")
        weights = node("Softmax", [scores], f"{p}.attention", axis=-1)
        context = node("MatMul", [weights, v], f"{p}.context_heads")
        context = node("Transpose", [context], f"{p}.context_t", perm=[0, 2, 1, 3])
        context = node("Reshape", [context, flat_shape], f"{p}.context")
        attended = dense(context, layer.attention_out, layer.attention_out_bias, f"{p}.attention_out")
        attended = node("Add", [attended, x], f"{p}.attention_residual")
        x = layer_norm(attended, *layer.attention_norm, f"{p}.attention_norm")
        hidden = dense(x, layer.intermediate, layer.intermediate_bias, f"{p}.intermediate")
        # Exact GELU, x * (1 + erf(x / sqrt 2)) * 0.5, in the order ONNX Runtime fuses into one kernel.
        erf = node("Erf", [node("Div", [hidden, sqrt2], f"{p}.gelu_scaled")], f"{p}.gelu_erf")
        gelu_x = node("Mul", [hidden, node("Add", [erf, one], f"{p}.gelu_one")], f"{p}.gelu_x")
        gelu = node("Mul", [gelu_x, half], f"{p}.gelu")
        out = dense(gelu, layer.output, layer.output_bias, f"{p}.output")
        out = node("Add", [out, x], f"{p}.output_residual")
        x = layer_norm(out, *layer.output_norm, f"{p}.output_norm")

    # Mean over the real pieces, then divide by the L2 norm (floored like the numpy path).
    hidden_shape = node(
        "Concat", [batch_and_length, constant("hidden_dim", [HIDDEN], np.int64)], "hidden_shape", axis=0
    )
    x = node("Reshape", [x, hidden_shape], "last_hidden")
    token_mask = node("Unsqueeze", ["attention_mask", constant("last_axis", [-1], np.int64)], "token_mask")
    axis1 = constant("length_axis", [1], np.int64)
    summed = node("ReduceSum", [node("Mul", [x, token_mask], "masked_hidden"), axis1], "summed", keepdims=0)
    counts = node("ReduceSum", ["attention_mask", axis1], "counts", keepdims=1)
    pooled = node("Div", [summed, counts], "pooled")
    norm = node("ReduceL2", [pooled], "norm", axes=[1], keepdims=1)  # axes is an attribute until opset 18
    norm = node("Max", [norm, constant("norm_floor", _NORM_FLOOR)], "norm_floored")
    node("Div", [pooled, norm], "embeddings")

    graph = helper.make_graph(
        nodes,
        "all-MiniLM-L6-v2 sentence embeddings",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "length"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.FLOAT, ["batch", "length"]),
        ],
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", HIDDEN])],
        initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="purpose-agent-minilm"
    )
    model.ir_version = IR_VERSION
    return model  # not run through onnx.checker here (a quarter second per load); the tests do


class OnnxEncoder:
    """An ONNX Runtime session over :func:`build_graph`; call it with ids and mask for unit vectors.

    ``threads`` is ONNX Runtime's intra-op thread count (0: its default, one per core); inter-op
    parallelism is off (the graph is a chain). ``int8``: the quantised graph (see :func:`build_graph`).
    A session may be run from several threads at once.
    """

    def __init__(self, encoder: BertEncoder, threads: int, *, int8: bool = False) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # warnings about unused initializers etc. are not the user's business
        self.session = onnxruntime.InferenceSession(
            build_graph(encoder, int8=int8).SerializeToString(), options, providers=["CPUExecutionProvider"]
        )

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Unit sentence vectors ``(batch, 384)`` for ``ids`` and ``mask`` ``(batch, length)``."""
        (vectors,) = self.session.run(["embeddings"], {"input_ids": ids, "attention_mask": mask})
        return np.asarray(vectors, dtype=np.float32)
