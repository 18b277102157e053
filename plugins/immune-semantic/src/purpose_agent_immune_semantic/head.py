"""The trained classifier head: reading, applying and writing ``head.json``.

The head maps a sentence embedding to the probability that the text asks the AI reading it to do
something other than its task. It is a small feed-forward network (zero or more ReLU layers, then
one logistic output), stored as JSON so that the same training data gives a byte-identical file
(weights are rounded to 7 significant digits). ``train.py`` writes it with :func:`write_head`; the
scanner reads it with :func:`load_head`.
"""

from __future__ import annotations

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
    meta: dict[str, Any] = field(default_factory=dict)

    def probabilities(self, vectors: Any) -> Any:
        """The attack probability of each row of ``vectors`` (an ``(n, dimension)`` array)."""
        import numpy as np

        hidden = np.asarray(vectors, dtype=np.float32)
        for weight, bias in self.layers[:-1]:
            hidden = np.maximum(hidden @ weight + bias, 0.0)
        weight, bias = self.layers[-1]
        logits = (hidden @ weight + bias).reshape(-1).astype(np.float64)
        return 1.0 / (1.0 + np.exp(-np.clip(logits, -60.0, 60.0)))


def _rounded(values: Any) -> Any:
    """Nested lists of floats at 7 significant digits (stable text, float32 precision)."""
    import numpy as np

    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 0:
        return float(f"{float(array):.7g}")
    return [_rounded(row) for row in array]


def write_head(head: Head, path: Path = HEAD_PATH) -> None:
    """Write ``head`` as JSON with sorted keys and rounded weights (same head, same bytes)."""
    data = {
        "format": FORMAT,
        "embedder": head.embedder,
        "model_id": head.model_id,
        "dimension": head.dimension,
        "threshold": float(f"{head.threshold:.7g}"),
        "window": head.window,
        "layers": [{"weight": _rounded(w), "bias": _rounded(b)} for w, b in head.layers],
        "meta": head.meta,
    }
    path.write_text(json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")


def load_head(path: Path = HEAD_PATH) -> Head:
    """Read a head file; raise :class:`HeadError` naming the file and the problem."""
    import numpy as np

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
        layers = [
            (np.asarray(layer["weight"], dtype=np.float32), np.asarray(layer["bias"], dtype=np.float32))
            for layer in data["layers"]
        ]
        head = Head(
            layers=layers,
            threshold=float(data["threshold"]),
            embedder=str(data["embedder"]),
            model_id=str(data["model_id"]),
            dimension=int(data["dimension"]),
            window={k: int(v) for k, v in data["window"].items()},
            meta=dict(data.get("meta", {})),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise HeadError(f"the semantic head {path} is incomplete ({exc}); retrain it with train.py") from exc
    if not layers or layers[0][0].shape[0] != head.dimension or layers[-1][0].reshape(len(layers[-1][0]), -1).shape[1] != 1:
        raise HeadError(f"the semantic head {path} has layers that do not fit dimension {head.dimension}; retrain it")
    return head
