"""The ``minilm`` embedder: tokenise with ``tokenizers``, encode, mean-pool, normalise.

Two backends compute the encoder: ONNX Runtime (``onnx_graph.py``; faster, the default when
``onnxruntime`` and ``onnx`` are installed) and numpy (``model.py``; no dependency beyond numpy).
They are the same function of the same weights and agree to float rounding (the tests hold them
within 1e-5 of each other and of sentence-transformers), so ``model_id`` does not name the backend:
a vector cached by one is valid for the other, and the immune semantic tier's head, trained on
vectors keyed by ``model_id``, scores either.

This reproduces sentence-transformers' pipeline for all-MiniLM-L6-v2 (Transformer with
``max_seq_length`` 256 -> mean pooling over the attention mask -> L2 normalisation); the plugin's
tests compare against vectors recorded from sentence-transformers itself.

Long texts: like sentence-transformers, a text is cut to its first 256 word pieces ([CLS], 254
pieces of the text, [SEP]), so words after roughly the first 180-200 English words do not
affect its vector. A consumer that must see a whole long text (a scanner looking for an
instruction hidden at the end) splits it into windows itself and embeds each.
"""

from __future__ import annotations

import importlib.util
import threading
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from purpose_agent.errors import PluginError

from .model import HIDDEN, MODEL_NAME, BertEncoder, ModelArchive, find_archive, load_files

#: The model's input limit in word pieces, [CLS] and [SEP] included (sentence-transformers'
#: max_seq_length for this model; the position table would allow 512).
MAX_TOKENS = 256
#: Bumped whenever this code would produce different vectors for the same weights; it is part
#: of ``model_id``, so the kernel's vector cache misses and re-embeds. It names the math (this
#: model's BERT, mean pooling, L2 norm, 256 pieces), not the code that runs it: both backends
#: compute it ("np1" is the name it got when numpy was the only one; renaming it would throw
#: away every cached vector and the semantic tier's trained head for nothing).
PIPELINE_REVISION = "np1"
#: The revision of the 8-bit pipeline (``precision="int8"``, the ``minilm-int8`` embedder): the
#: same model with its dense layers multiplied in uint8 (``onnx_graph.build_graph(int8=True)``),
#: one text per forward pass. Its vectors are close to the float32 ones (cosine ~0.99), not equal,
#: so they are cached and matched under their own ``model_id``. Bump it when that graph changes.
INT8_REVISION = "u8a1"
#: The values of the ``precision`` argument.
PRECISIONS = ("float32", "int8")
#: The values of the ``backend`` setting: "auto" is ONNX Runtime when it can be imported, else numpy.
BACKENDS = ("auto", "onnx", "numpy")
ONNX_INSTALL_HINT = "pip install onnxruntime onnx"
#: Word pieces per forward pass (texts x longest text). Batching helps up to a few hundred
#: pieces (a text took 36 ms alone, 20 ms in a batch of 8, here); beyond that the activations
#: outgrow the CPU cache and throughput stopped improving or fell, in noisy runs on a busy machine.
BATCH_TOKENS = 512
# Texts are tokenised from a prefix this long when the prefix alone already fills the model's
# input: tokenising a 1 MB text to keep 256 pieces would cost far more than the forward pass.
_PREFIX_CHARS = 8192


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 sentence embeddings (384 dimensions), offline and without torch.

    Cheap to construct: the weights (90 MB) and tokenizer load on the first :meth:`embed`, once
    per process (shared by every instance). Texts are sorted by length and encoded in batches of
    at most ``batch_size`` texts and ``batch_tokens`` word pieces, each padded to its longest
    member only.

    ``backend``: "onnx" (ONNX Runtime), "numpy", or "auto" (ONNX Runtime if ``onnxruntime`` and
    ``onnx`` can be imported, else numpy); :attr:`backend` holds the one chosen. Both give the
    same vectors up to float rounding, under the same :attr:`model_id`.

    ``precision``: "float32" (the model as trained), or "int8" (dense layers multiplied in 8-bit
    integers by ONNX Runtime, about twice as fast on one core, one text per forward pass; vectors
    within cosine ~0.98 of the float32 ones, under their own :attr:`model_id`; needs ONNX Runtime).

    ``threads``: with ONNX Runtime, its session's intra-op threads (0: one per core). With numpy,
    the first :meth:`embed` sets the BLAS library numpy uses to this many threads **for the whole
    process** (threadpoolctl; 0 leaves it alone). The matrices of a few sentences are too small
    to share out: on this busy 2-core machine OpenBLAS's default of one thread per core made
    embedding 7 times slower, and switching the count back and forth around each call made
    concurrent callers 10 times slower.
    """

    dimension = HIDDEN
    max_tokens = MAX_TOKENS

    def __init__(
        self,
        archive: ModelArchive | None = None,
        *,
        batch_size: int = 32,
        batch_tokens: int = BATCH_TOKENS,
        threads: int = 1,
        backend: str = "auto",
        precision: str = "float32",
    ) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"unknown minilm precision {precision!r}; use 'float32' or 'int8'")
        self.precision = precision
        self.requested_backend = backend
        self.backend = _choose_backend(backend, precision)
        self.archive = archive or find_archive()
        # int8: one text per forward pass, because a layer's input is quantised with one scale for
        # the whole batch, so a batch partner (or padding) would move the vector.
        self.batch_size = 1 if precision == "int8" else batch_size
        self.batch_tokens = batch_tokens
        self.threads = threads
        # float32: the same for both backends (see PIPELINE_REVISION); int8 has its own.
        revision = INT8_REVISION if precision == "int8" else PIPELINE_REVISION
        self.model_id = f"{MODEL_NAME}@{self.archive.sha256[:16]}/{revision}-{MAX_TOKENS}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return float32 unit vectors, shape ``(len(texts), 384)``; see the module for long texts."""
        texts = list(texts)
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"embed() takes strings; item {index} is {type(text).__name__}")
        out = np.empty((len(texts), HIDDEN), dtype=np.float32)
        if not texts:
            return out
        tokenizer, encode = self._runtime()
        ids = _token_ids(tokenizer, texts)
        order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
        for chunk in _batches(order, [len(i) for i in ids], self.batch_size, self.batch_tokens):
            out[chunk] = encode([ids[i] for i in chunk])
        return out

    def _runtime(self) -> tuple[Any, Callable[[list[list[int]]], np.ndarray]]:
        """The tokenizer and the batch encoder of this embedder's backend (loaded once per process)."""
        if self.backend == "numpy":
            tokenizer, encoder = _numpy_runtime(self.archive)
            _set_blas_threads(self.threads)
            return tokenizer, lambda batch_ids: _encode_batch(encoder, batch_ids)
        try:
            import onnx  # noqa: F401  (imported here so that a broken install is told apart)
            import onnxruntime  # noqa: F401
        except ImportError as error:  # installed (find_spec saw it) but broken
            if self.precision == "int8":
                raise PluginError(
                    f"the minilm-int8 embedder needs ONNX Runtime, which is installed but cannot be imported "
                    f"({error}); reinstall it ({ONNX_INSTALL_HINT})"
                ) from error
            if self.requested_backend == "onnx":
                raise PluginError(
                    f"the minilm embedder's onnx backend cannot import ONNX Runtime ({error}). "
                    f'Reinstall it ({ONNX_INSTALL_HINT}) or set [plugins.minilm] backend = "numpy".'
                ) from error
            warnings.warn(
                f"minilm: ONNX Runtime is installed but cannot be imported ({error}); using the numpy backend "
                "(same vectors, slower)",
                RuntimeWarning,
                stacklevel=3,
            )
            self.backend = "numpy"
            return self._runtime()
        tokenizer, session = _onnx_runtime(self.archive, self.threads, int8=self.precision == "int8")
        return tokenizer, lambda batch_ids: _encode_batch_onnx(session, batch_ids)


def missing_onnx_packages() -> list[str]:
    """Which of ``onnxruntime`` and ``onnx`` are not installed, found without importing them."""
    missing = []
    for name in ("onnxruntime", "onnx"):
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):  # ValueError: a module set to None in sys.modules (blocked)
            found = False
        if not found:
            missing.append(name)
    return missing


def _choose_backend(requested: str, precision: str = "float32") -> str:
    """The backend to use for the ``backend`` setting ``requested``; a sentence if it cannot be had.

    ``int8`` runs on ONNX Runtime only: the numpy backend computes the float32 model."""
    if requested not in BACKENDS:
        raise ValueError(
            f"unknown minilm backend {requested!r}; use one of {', '.join(map(repr, BACKENDS))} "
            "(auto: ONNX Runtime when installed, else numpy)"
        )
    if precision == "int8" and requested == "numpy":
        raise PluginError(
            "the minilm-int8 embedder runs on ONNX Runtime only (the numpy backend computes the float32 "
            'model), but [plugins.minilm] backend = "numpy"; set backend = "auto" or "onnx" '
            "(or leave out the consumer of minilm-int8, such as immune-semantic)"
        )
    if requested == "numpy":
        return "numpy"
    missing = missing_onnx_packages()
    if not missing:
        return "onnx"
    if precision == "int8":
        raise PluginError(
            f"the minilm-int8 embedder runs on ONNX Runtime, but {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not installed. Install them with: {ONNX_INSTALL_HINT} "
            "(or pip install 'purpose-agent-minilm[onnx]')"
        )
    if requested == "onnx":
        raise PluginError(
            f"the minilm embedder's onnx backend needs onnxruntime and onnx; {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not installed. Install them with: {ONNX_INSTALL_HINT} "
            '(or set [plugins.minilm] backend = "numpy")'
        )
    return "numpy"


def _batches(order: list[int], lengths: list[int], batch_size: int, batch_tokens: int) -> list[list[int]]:
    """Split ``order`` (indexes sorted by length) into batches of at most ``batch_size`` texts
    whose padded size (texts x longest) stays within ``batch_tokens``; a longer text goes alone."""
    batches: list[list[int]] = []
    current: list[int] = []
    for index in order:
        if current and (len(current) == batch_size or (len(current) + 1) * lengths[index] > batch_tokens):
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches


def _set_blas_threads(threads: int) -> None:
    """Set numpy's BLAS to ``threads`` threads for the rest of the process (0: leave it alone).

    Set once, not around each call: switching OpenBLAS between thread counts while several
    Python threads were embedding made them 10 times slower here than the same calls in turn.
    """
    global _blas_threads
    if threads and _blas_threads != threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads, user_api="blas")
        _blas_threads = threads


def _padded(batch_ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Token ids padded with 0 to the longest (int64) and the mask (float32: 1 real, 0 padding)."""
    lengths = np.array([len(i) for i in batch_ids])
    ids = np.zeros((len(batch_ids), int(lengths.max())), dtype=np.int64)
    for row, token_ids in enumerate(batch_ids):
        ids[row, : len(token_ids)] = token_ids
    return ids, (np.arange(ids.shape[1])[None, :] < lengths[:, None]).astype(np.float32)


def _encode_batch_onnx(session: Any, batch_ids: list[list[int]]) -> np.ndarray:
    """Mean-pooled, L2-normalised vectors for one batch of token id lists, by ONNX Runtime."""
    return session(*_padded(batch_ids))  # type: ignore[no-any-return]


def _encode_batch(encoder: BertEncoder, batch_ids: list[list[int]]) -> np.ndarray:
    """Mean-pooled, L2-normalised vectors for one batch of token id lists, by numpy."""
    ids, mask = _padded(batch_ids)
    lengths = mask.sum(axis=1, dtype=np.float32)
    padded = bool((lengths != ids.shape[1]).any())
    hidden = encoder(ids, mask if padded else None)
    if padded:
        pooled = np.einsum("bld,bl->bd", hidden, mask) / lengths[:, None]
    else:
        pooled = hidden.mean(axis=1)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.maximum(norms, np.float32(1e-12))).astype(np.float32, copy=False)


def _token_ids(tokenizer: Any, texts: list[str]) -> list[list[int]]:
    """Word-piece ids with [CLS]/[SEP], cut to :data:`MAX_TOKENS` exactly as the full text would be."""
    prepared = [_printable(t) for t in texts]
    heads = [_head(t) for t in prepared]
    encodings = tokenizer.encode_batch(heads) if len(heads) > 1 else [tokenizer.encode(heads[0])]
    ids = [e.ids for e in encodings]
    # A prefix that did not fill the model's input may have lost pieces that would count: redo
    # those from the whole text (the tokenizer itself truncates to MAX_TOKENS).
    for i, (head, text) in enumerate(zip(heads, prepared, strict=True)):
        if head is not text and len(ids[i]) < MAX_TOKENS:
            ids[i] = tokenizer.encode(text).ids
    return ids


def _head(text: str) -> str:
    """The text up to the last whitespace before :data:`_PREFIX_CHARS` (whole words only), or
    the text itself when it is short or has no whitespace to cut at."""
    if len(text) <= _PREFIX_CHARS:
        return text
    cut = max(text.rfind(" ", 0, _PREFIX_CHARS), text.rfind("\n", 0, _PREFIX_CHARS))
    return text[:cut] if cut > _PREFIX_CHARS // 2 else text


def _printable(text: str) -> str:
    """The text with lone surrogates replaced (the Rust tokenizer cannot take them)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


_lock = threading.RLock()
# Loaded once per process: the tokenizer and the numpy encoder per weights archive, and one ONNX
# Runtime session per (archive, threads, int8). A process normally uses one backend; the tests use both.
_tokenizers: dict[str, Any] = {}
_numpy_encoders: dict[str, BertEncoder] = {}
_onnx_sessions: dict[tuple[str, int, bool], Any] = {}
_blas_threads = 0  # the BLAS thread count this module last set (0: never set)


def _tokenizer(archive: ModelArchive, files: Any = None) -> Any:
    """The model's word-piece tokenizer, unpadded and cut at :data:`MAX_TOKENS` (call with _lock held)."""
    found = _tokenizers.get(archive.sha256)
    if found is None:
        from tokenizers import Tokenizer

        found = Tokenizer.from_str((files or load_files(archive)).tokenizer_json)
        found.no_padding()  # tokenizer.json pads to 128; batches are padded here instead
        found.enable_truncation(MAX_TOKENS)
        _tokenizers[archive.sha256] = found
    return found


def _numpy_runtime(archive: ModelArchive) -> tuple[Any, BertEncoder]:
    """The tokenizer and numpy encoder for ``archive``, loaded once per process."""
    found = _numpy_encoders.get(archive.sha256)
    if found is None:
        with _lock:
            found = _numpy_encoders.get(archive.sha256)
            if found is None:
                files = load_files(archive)
                _tokenizer(archive, files)
                found = _numpy_encoders[archive.sha256] = BertEncoder(files.weights)
    return _tokenizers[archive.sha256], found


def _onnx_runtime(archive: ModelArchive, threads: int, *, int8: bool = False) -> tuple[Any, Any]:
    """The tokenizer and an ONNX Runtime session for ``archive`` with ``threads`` intra-op threads
    (``int8``: the quantised graph)."""
    key = (archive.sha256, threads, int8)
    found = _onnx_sessions.get(key)
    if found is None:
        with _lock:
            found = _onnx_sessions.get(key)
            if found is None:
                from .onnx_graph import OnnxEncoder  # imports onnx and onnxruntime

                files = load_files(archive)
                _tokenizer(archive, files)
                # The numpy encoder prepares the weights (fused QKV, transposes) and is then dropped:
                # the session holds its own copy.
                found = _onnx_sessions[key] = OnnxEncoder(BertEncoder(files.weights), threads, int8=int8)
    return _tokenizers[archive.sha256], found


def tokenizer_for(archive: ModelArchive) -> Any:
    """The tokenizer the embedder uses for ``archive`` (``tokenizers.Tokenizer``), loaded once."""
    with _lock:
        return _tokenizer(archive)
