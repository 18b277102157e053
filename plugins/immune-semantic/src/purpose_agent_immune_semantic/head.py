"""The trained classifier head: reading, applying and writing ``head.json``.

The head maps a window to the probability that it asks the AI reading it to do something other
than its task. Its input is the window's sentence embedding followed by its hashed character
n-grams (:mod:`.features`); it is a small feed-forward network (ReLU layers, then one logistic
output). The file is JSON; each weight matrix is its float32 bytes in base64 (exact, and about a
third of the size of decimal text), so the same training run gives a byte-identical file.
``train.py`` writes it with :func:`write_head`; the scanner reads it with :func:`load_head`.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The head shipped inside this package.
HEAD_PATH = Path(__file__).with_name("head.json")
#: Bumped when the file's layout changes; a scanner refuses a head of another format.
FORMAT = 1


class HeadError(RuntimeError):
    """The head file is missing, unreadable or does not fit the embedder; the message says what to do."""


@dataclass
class Head:
    """Weights, the decision threshold and what the head was trained with."""

    layers: list[tuple[Any, Any]]  # (weight (in, out), bias (out,)) as numpy float32 arrays
    threshold: float
    embedder: str
    model_id: str
    dimension: int
    window: dict[str, int]
    ngrams: dict[str, Any] = field(default_factory=dict)  # {"buckets", "sizes", "scale"}; empty: none
    meta: dict[str, Any] = field(default_factory=dict)

    def inputs(self, vectors: Any, texts: list[str]) -> Any:
        """The head's input rows: each embedding followed by its window's hashed n-grams."""
        import numpy as np

        vectors = np.asarray(vectors, dtype=np.float32)
        if not self.ngrams:
            return vectors
        from .features import char_ngrams

        grams = char_ngrams(texts, buckets=self.ngrams["buckets"], sizes=self.ngrams["sizes"], scale=self.ngrams["scale"])
        return np.hstack([vectors, grams])

    def probabilities(self, inputs: Any) -> Any:
        """The attack probability of each row of ``inputs`` (from :meth:`inputs`)."""
        import numpy as np

        hidden = np.asarray(inputs, dtype=np.float32)
        for weight, bias in self.layers[:-1]:
            hidden = np.maximum(hidden @ weight + bias, 0.0)
        weight, bias = self.layers[-1]
        logits = (hidden @ weight + bias).reshape(-1).astype(np.float64)
        return 1.0 / (1.0 + np.exp(-np.clip(logits, -60.0, 60.0)))


def _packed(array: Any) -> dict[str, Any]:
    """A float32 array as ``{"shape": [...], "float32": base64 of its little-endian bytes}``."""
    import numpy as np

    data = np.ascontiguousarray(array, dtype="<f4")
    return {"shape": list(data.shape), "float32": base64.b64encode(data.tobytes()).decode("ascii")}


def _unpacked(packed: dict[str, Any]) -> Any:
    import numpy as np

    raw = base64.b64decode(packed["float32"], validate=True)
    return np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(packed["shape"])


def write_head(head: Head, path: Path = HEAD_PATH) -> None:
    """Write ``head`` as JSON with sorted keys (the same head gives the same bytes)."""
    data = {
        "format": FORMAT,
        "embedder": head.embedder,
        "model_id": head.model_id,
        "dimension": head.dimension,
        "threshold": head.threshold,
        "window": head.window,
        "ngrams": head.ngrams,
        "layers": [{"weight": _packed(w), "bias": _packed(b)} for w, b in head.layers],
        "meta": head.meta,
    }
    path.write_text(json.dumps(data, sort_keys=True, indent=1) + "\n", encoding="utf-8")


def load_head(path: Path = HEAD_PATH) -> Head:
    """Read a head file; raise :class:`HeadError` naming the file and the problem."""

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise HeadError(
            f"cannot read the semantic head {path}: {exc.strerror or exc}; reinstall purpose-agent-immune-semantic "
            "or retrain it with plugins/immune-semantic/training/train.py"
        ) from exc
    except json.JSONDecodeError as exc:
        raise HeadError(f"the semantic head {path} is not valid JSON ({exc.msg}); retrain it with train.py") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise HeadError(
            f"the semantic head {path} has format {data.get('format') if isinstance(data, dict) else '?'}, "
            f"this scanner reads format {FORMAT}; install matching versions or retrain with train.py"
        )
    try:
        layers = [(_unpacked(layer["weight"]), _unpacked(layer["bias"])) for layer in data["layers"]]
        head = Head(
            layers=layers,
            threshold=float(data["threshold"]),
            embedder=str(data["embedder"]),
            model_id=str(data["model_id"]),
            dimension=int(data["dimension"]),
            window={k: int(v) for k, v in data["window"].items()},
            ngrams=dict(data.get("ngrams") or {}),
            meta=dict(data.get("meta", {})),
        )
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise HeadError(f"the semantic head {path} is incomplete ({exc}); retrain it with train.py") from exc
    width = head.dimension + int(head.ngrams.get("buckets", 0))
    if not layers or layers[0][0].shape[0] != width or layers[-1][0].shape[-1] != 1:
        raise HeadError(f"the semantic head {path} has layers that do not fit its {width} inputs; retrain it")
    return head
