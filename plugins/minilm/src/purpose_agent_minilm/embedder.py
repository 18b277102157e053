"""The ``minilm`` embedder: tokenise with ``tokenizers``, encode with numpy, mean-pool, normalise.

This reproduces sentence-transformers' pipeline for all-MiniLM-L6-v2 (Transformer with
``max_seq_length`` 256 -> mean pooling over the attention mask -> L2 normalisation); the plugin's
tests compare against vectors recorded from sentence-transformers itself.

Long texts: like sentence-transformers, a text is cut to its first 256 word pieces ([CLS], 254
pieces of the text, [SEP]), so words after roughly the first 180-200 English words do not
affect its vector. A consumer that must see a whole long text (a scanner looking for an
instruction hidden at the end) splits it into windows itself and embeds each.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from .model import HIDDEN, MODEL_NAME, BertEncoder, ModelArchive, find_archive, load_files

#: The model's input limit in word pieces, [CLS] and [SEP] included (sentence-transformers'
#: max_seq_length for this model; the position table would allow 512).
MAX_TOKENS = 256
#: Bumped whenever this code would produce different vectors for the same weights; it is part
#: of ``model_id``, so the kernel's vector cache misses and re-embeds.
PIPELINE_REVISION = "np1"
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

    ``threads``: the first :meth:`embed` sets the BLAS library numpy uses to this many threads
    **for the whole process** (threadpoolctl; 0 leaves it alone). The matrices of a few sentences
    are too small to share out: on this busy 2-core machine OpenBLAS's default of one thread per
    core made embedding 7 times slower, and switching the count back and forth around each call
    made concurrent callers 10 times slower.
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
    ) -> None:
        self.archive = archive or find_archive()
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self.threads = threads
        self.model_id = f"{MODEL_NAME}@{self.archive.sha256[:16]}/{PIPELINE_REVISION}-{MAX_TOKENS}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return float32 unit vectors, shape ``(len(texts), 384)``; see the module for long texts."""
        texts = list(texts)
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"embed() takes strings; item {index} is {type(text).__name__}")
        out = np.empty((len(texts), HIDDEN), dtype=np.float32)
        if not texts:
            return out
        tokenizer, encoder = _runtime(self.archive)
        ids = _token_ids(tokenizer, texts)
        order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
        _set_blas_threads(self.threads)
        for chunk in _batches(order, [len(i) for i in ids], self.batch_size, self.batch_tokens):
            out[chunk] = _encode_batch(encoder, [ids[i] for i in chunk])
        return out


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


def _encode_batch(encoder: BertEncoder, batch_ids: list[list[int]]) -> np.ndarray:
    """Mean-pooled, L2-normalised vectors for one batch of token id lists."""
    lengths = np.array([len(i) for i in batch_ids])
    length = int(lengths.max())
    ids = np.zeros((len(batch_ids), length), dtype=np.int64)
    for row, token_ids in enumerate(batch_ids):
        ids[row, : len(token_ids)] = token_ids
    padded = bool((lengths != length).any())
    mask = (np.arange(length)[None, :] < lengths[:, None]).astype(np.float32)
    hidden = encoder(ids, mask if padded else None)
    if padded:
        pooled = np.einsum("bld,bl->bd", hidden, mask) / lengths[:, None].astype(np.float32)
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


_lock = threading.Lock()
_loaded: dict[str, tuple[Any, BertEncoder]] = {}
_blas_threads = 0  # the BLAS thread count this module last set (0: never set)


def _runtime(archive: ModelArchive) -> tuple[Any, BertEncoder]:
    """The tokenizer and encoder for ``archive``, loaded once per process."""
    found = _loaded.get(archive.sha256)
    if found is not None:
        return found
    with _lock:
        found = _loaded.get(archive.sha256)
        if found is None:
            from tokenizers import Tokenizer

            files = load_files(archive)
            tokenizer = Tokenizer.from_str(files.tokenizer_json)
            tokenizer.no_padding()  # tokenizer.json pads to 128; batches are padded here instead
            tokenizer.enable_truncation(MAX_TOKENS)
            found = _loaded[archive.sha256] = (tokenizer, BertEncoder(files.weights))
    return found
