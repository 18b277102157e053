"""Train the semantic tier's head and write it into the package (``head.json``).

Run (from the repository root, in the dev environment)::

    python plugins/immune-semantic/training/train.py --eval-dir ../shared/eval
    python plugins/immune-semantic/training/train.py --written-only --out /tmp/head.json

What it learns from:

* ``written_train.jsonl`` (``generate.py``): attacks written from a taxonomy of kinds, planted in
  realistic carriers, and benign texts in the same carriers;
* the **tune** split of the evaluation data in ``--eval-dir`` (or ``$PURPOSE_AGENT_EVAL_DIR``):
  ``injection_dev.jsonl`` and ``benign_lessons_dev.jsonl``, rows whose id hashes outside the
  held-out fifth (``split_of`` in ``purpose_agent_immune.evaluation``). Held-out rows are never
  read for training, and no eval row is copied into the repository.

How: every text is cut into the windows the scanner scores (``purpose_agent_immune_semantic.windows``)
and each window is embedded with the real embedder (``minilm`` through the kernel). A window is
an attack example when it holds most of the planted payload, benign when it holds none of it (the
carrier around an injection is benign text); windows holding a sliver of a payload are left out.
An eval attack long enough for several windows contributes the window a first-stage head scores
highest (the attack sits somewhere in it; its other windows are not labelled). The head is a
one-hidden-layer network (ReLU, logistic output, L2) trained with mini-batch Adam from a fixed
seed. The threshold is chosen from five-fold cross-validation (folds by a hash of the text) so
that at most ``--max-fp`` of the benign lessons would be flagged, and the per-family
cross-validated recall and false-positive rates are printed.

Deterministic: embeddings are computed one text per call (so batch padding cannot change a
vector) and kept in a cache file keyed by the embedder's ``model_id``; training uses a seeded
generator and fixed shapes; weights are rounded when written. The same data on the same machine
gives a byte-identical ``head.json`` (``tests/plugins/immune_semantic/test_head.py`` checks it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
DEFAULT_EVAL_DIR = REPO.parent / "shared" / "eval"

#: The window layout the head is trained on: three sentences give each example more context.
WINDOW = {"size": 3, "stride": 2, "whole_chars": 320, "max_chars": 600}
#: The layout written into the head, which the scanner uses by default: two-sentence windows, one
#: starting at every sentence. Trained and scanned on three-sentence windows, an injected sentence
#: between two benign ones scored 0.88 (under the threshold, diluted by its neighbours) where it
#: scored 0.99 alone; scanned on two it scores 0.999. Measured on the written test split: recall
#: 87.5% -> 89.5%, benign false positives 1.5% -> 3.4% (planted hard negatives in documents).
#: Training on two-sentence windows as well was worse (recall 79.5%: the threshold that keeps
#: benign prompts under budget rose from 0.93 to 0.96).
SCAN_WINDOW = {"size": 2, "stride": 1, "whole_chars": 320, "max_chars": 600}
#: The embedder the head reads: all-MiniLM-L6-v2 with 8-bit dense layers (``purpose-agent-minilm``'s
#: ``minilm-int8``), about twice as fast as the float32 ``minilm`` on one core, which took the
#: tier from ~84 to over 100 lessons per second. The head is trained on its own vectors.
EMBEDDER = "minilm-int8"
#: The hashed character n-grams appended to each embedding (see purpose_agent_immune_semantic.features).
NGRAMS = {"buckets": 2048, "sizes": [3, 4], "scale": 1.0}
FOLDS = 5
SEED = 1202
HIDDEN = 64
L2 = 1e-4
EPOCHS = 40
BATCH = 256
LEARNING_RATE = 2e-3
#: A window is an attack example when it holds at least this share of the payload's characters.
PAYLOAD_SHARE = 0.6
#: Target false-positive rate on benign lessons and the safety margin applied to it in
#: cross-validation (the threshold is set for MAX_FP * FP_MARGIN, so the held-out rate stays below MAX_FP).
MAX_FP = 0.01
FP_MARGIN = 0.7
#: Share of the training weight given to each group of examples.
#: Prompts (what a user or operator types to an assistant: tasks, questions, system prompts,
#: e-mails and code they paste) are instructions by nature; they get a group of their own so the
#: head learns that an instruction from the user is not an injection.
GROUP_WEIGHT = {"attack": 0.4, "benign_lessons": 0.2, "benign_prompts": 0.25, "benign_documents": 0.15}
#: Target false-positive rate on benign prompts (the threshold satisfies both budgets). No margin:
#: the rule tier flags under 1% of these, and the two tiers together should stay under 5%.
MAX_PROMPT_FP = 0.04
#: Written benign kinds that are prompts rather than lessons or documents.
PROMPT_KINDS = {"benign_user_prompt", "benign_user_task", "benign_about_ai", "benign_multilingual"}


@dataclass
class TrainRow:
    """One labelled text with where it came from."""

    text: str
    label: int
    family: str
    origin: str  # "written", "injection_dev" or "benign_lessons_dev"
    payload: tuple[int, int] | None = None


# --------------------------------------------------------------------------- data


def written_rows(path: Path) -> list[TrainRow]:
    """The written training rows (``written_train.jsonl``)."""
    rows = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.strip():
            data = json.loads(line)
            payload = tuple(data["payload"]) if data["label"] == 1 and data.get("payload") else None
            rows.append(TrainRow(data["text"], int(data["label"]), data["kind"], "written", payload))  # type: ignore[arg-type]
    return rows


def eval_rows(eval_dir: Path) -> list[TrainRow]:
    """The tune split of the evaluation files (never the held-out fifth)."""
    from purpose_agent_immune.evaluation import load_rows, split_of

    rows = []
    for name in ("injection_dev", "benign_lessons_dev"):
        path = eval_dir / f"{name}.jsonl"
        if not path.exists():
            raise SystemExit(f"train.py: {path} is missing; pass --eval-dir with injection_dev.jsonl and benign_lessons_dev.jsonl, or --written-only")
        for row in load_rows(path):
            if split_of(row) == "tune":
                rows.append(TrainRow(row.text, row.label, row.family, name))
    return rows


def group_of(row: TrainRow) -> str:
    """Which weight group a benign row's windows belong to (see :data:`GROUP_WEIGHT`)."""
    if row.origin == "benign_lessons_dev" or (row.origin == "written" and row.family == "benign_lesson"):
        return "benign_lessons"
    if row.origin == "injection_dev" or row.family in PROMPT_KINDS:
        return "benign_prompts"
    return "benign_documents"  # written documents, and the carrier windows around a planted attack


def fold_of(text: str) -> int:
    """The cross-validation fold of a text (stable across runs and machines)."""
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16) % FOLDS


@dataclass
class Examples:
    """Window-level examples: which row, the normalised window text, its label (-1 = to be chosen)."""

    row: np.ndarray
    label: np.ndarray
    texts: list[str]
    spans: list[tuple[int, int]]


def window_examples(rows: list[TrainRow], layout: dict[str, int] = WINDOW) -> Examples:
    """Cut every row into windows of ``layout`` and label each window (see the module docstring)."""
    from purpose_agent_immune_semantic.windows import normalise, windows

    row_ids, labels, texts, spans = [], [], [], []
    for index, row in enumerate(rows):
        parts = windows(row.text, **layout)
        for window in parts:
            if row.label == 0:
                label = 0
            elif row.payload is not None:
                start, end = row.payload
                overlap = max(0, min(end, window.end) - max(start, window.start))
                if overlap == 0:
                    label = 0
                elif overlap >= PAYLOAD_SHARE * (end - start):
                    label = 1
                else:
                    continue  # a sliver of the payload: neither a clean attack nor benign
            else:
                label = 1 if len(parts) == 1 else -1
            row_ids.append(index)
            labels.append(label)
            texts.append(normalise(row.text[window.start : window.end]))
            spans.append((window.start, window.end))
    return Examples(np.array(row_ids), np.array(labels), texts, spans)


# --------------------------------------------------------------------------- embeddings


def embed_all(texts: list[str], cache_path: Path | None) -> np.ndarray:
    """Embed each distinct text alone through the kernel's :data:`EMBEDDER` (cached on disk)."""
    from purpose_agent import Kernel

    runtime: dict[str, Any] = {"embedding_cache": str(cache_path) if cache_path else False}
    # The 8-bit model runs on ONNX Runtime only. One thread and one text per forward pass give
    # the same bits on every run on one machine (another CPU family may round differently; the
    # scanner tolerates that, the byte-identical head is a same-machine property).
    config = {"runtime": runtime, "plugins": {"minilm": {"backend": "onnx", "threads": 1}}}
    kernel = Kernel.load(config, environ={"PURPOSE_AGENT_PLUGINS": "minilm"})
    embedder = kernel.embedder(EMBEDDER)
    distinct = sorted(set(texts))
    vectors: dict[str, np.ndarray] = {}
    started = time.perf_counter()
    for count, text in enumerate(distinct, start=1):
        # One text per call: padding in a batch may move a vector in its last bits, and the
        # head must not depend on which texts happened to share a batch.
        vectors[text] = embedder.embed([text])[0]
        if count % 2000 == 0:
            print(f"  embedded {count}/{len(distinct)} windows ({time.perf_counter() - started:.0f} s)", flush=True)
    embed_all.model_id = embedder.model_id  # type: ignore[attr-defined]
    return np.stack([vectors[t] for t in texts]).astype(np.float32)


# --------------------------------------------------------------------------- the network


def fit(x: np.ndarray, y: np.ndarray, weight: np.ndarray, *, seed: int = SEED) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train the head (384 -> HIDDEN ReLU -> 1 logistic) with mini-batch Adam and L2."""
    rng = np.random.default_rng(seed)
    dim = x.shape[1]
    w1 = (rng.standard_normal((dim, HIDDEN)) * np.sqrt(2.0 / dim)).astype(np.float32)
    b1 = np.zeros(HIDDEN, np.float32)
    w2 = (rng.standard_normal((HIDDEN, 1)) * np.sqrt(1.0 / HIDDEN)).astype(np.float32)
    b2 = np.zeros(1, np.float32)
    params = [w1, b1, w2, b2]
    first = [np.zeros_like(p) for p in params]
    second = [np.zeros_like(p) for p in params]
    x = x.astype(np.float32)
    y = y.astype(np.float32)
    weight = (weight / weight.mean()).astype(np.float32)
    step = 0
    for _ in range(EPOCHS):
        order = rng.permutation(len(x))
        for start in range(0, len(x), BATCH):
            batch = order[start : start + BATCH]
            xb, yb, wb = x[batch], y[batch], weight[batch]
            hidden = xb @ w1 + b1
            active = np.maximum(hidden, 0.0)
            logits = (active @ w2 + b2)[:, 0]
            probability = 1.0 / (1.0 + np.exp(-np.clip(logits, -60, 60)))
            grad_logits = ((probability - yb) * wb / len(batch))[:, None]
            grad_active = grad_logits @ w2.T
            grad_hidden = grad_active * (hidden > 0)
            grads = [xb.T @ grad_hidden + L2 * w1, grad_hidden.sum(0), active.T @ grad_logits + L2 * w2, grad_logits.sum(0)]
            step += 1
            for i, (param, grad) in enumerate(zip(params, grads, strict=True)):
                first[i] = 0.9 * first[i] + 0.1 * grad
                second[i] = 0.999 * second[i] + 0.001 * grad * grad
                corrected = first[i] / (1 - 0.9**step)
                scale = np.sqrt(second[i] / (1 - 0.999**step)) + 1e-8
                param -= (LEARNING_RATE * corrected / scale).astype(np.float32)
    return [(w1, b1), (w2, b2)]


def predict(layers: list[tuple[np.ndarray, np.ndarray]], x: np.ndarray) -> np.ndarray:
    """Attack probabilities, computed exactly as the scanner's :class:`Head` does."""
    from purpose_agent_immune_semantic.head import Head

    return Head(layers=layers, threshold=0.5, embedder="", model_id="", dimension=0, window={}).probabilities(x)


def head_inputs(vectors: np.ndarray, texts: list[str]) -> np.ndarray:
    """Embeddings followed by hashed n-grams, exactly as the scanner builds them."""
    from purpose_agent_immune_semantic.head import Head

    return Head(layers=[], threshold=0.5, embedder="", model_id="", dimension=0, window={}, ngrams=NGRAMS).inputs(vectors, texts)


def weights_for(rows: list[TrainRow], ex: Examples, positions: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Weights of the examples at ``positions``: each group (attack windows, benign-lesson windows,
    other benign windows — carrier windows around a planted attack included) gets its
    GROUP_WEIGHT share, spread evenly over its examples; the mean weight is 1."""
    groups = np.array(
        [
            "attack" if labels[p] == 1 else group_of(rows[ex.row[p]])
            for p in positions
        ]
    )
    weight = np.zeros(len(positions))
    for group, share in GROUP_WEIGHT.items():
        members = groups == group
        if members.any():
            weight[members] = share / members.sum()
    return weight * len(positions)


def train_head(rows: list[TrainRow], ex: Examples, x: np.ndarray, keep: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Two stages on the examples selected by ``keep``: fit on the labelled windows, choose the
    highest-scoring window of each multi-window eval attack, then fit again with those added."""
    labels = ex.label.copy()
    labelled = np.flatnonzero(keep & (labels >= 0))
    layers = fit(x[labelled], labels[labelled], weights_for(rows, ex, labelled, labels))
    open_windows = np.flatnonzero(keep & (labels < 0))
    if len(open_windows) == 0:
        return layers
    scores = predict(layers, x[open_windows])
    best: dict[int, tuple[float, int]] = {}
    for score, position in zip(scores, open_windows, strict=True):
        row = int(ex.row[position])
        if row not in best or score > best[row][0]:
            best[row] = (float(score), int(position))
    chosen = np.array(sorted(position for _, position in best.values()))
    labels[chosen] = 1
    labelled = np.union1d(labelled, chosen)
    return fit(x[labelled], labels[labelled], weights_for(rows, ex, labelled, labels))


def row_scores(ex: Examples, scores: np.ndarray, n_rows: int) -> np.ndarray:
    """The scanner's verdict per row: the highest window score."""
    out = np.zeros(n_rows)
    np.maximum.at(out, ex.row, scores)
    return out


def choose_threshold(benign_lesson_scores: np.ndarray, max_fp: float, margin: float = FP_MARGIN) -> float:
    """The lowest threshold that flags at most ``max_fp * margin`` of these benign scores (0.5
    when there are none)."""
    if len(benign_lesson_scores) == 0:
        return 0.5
    allowed = int(np.floor(max_fp * margin * len(benign_lesson_scores)))
    ordered = np.sort(benign_lesson_scores)[::-1]
    # Just above the (allowed+1)-th highest benign score; never below 0.5.
    return float(max(0.5, np.nextafter(ordered[allowed], 1.0)))


def family_name(row: TrainRow) -> str:
    """The family a row is reported under (eval families as in ``immune eval``, written ones by kind)."""
    prefix = "written:" if row.origin == "written" else ""
    return prefix + row.family


def report(rows: list[TrainRow], scores: np.ndarray, threshold: float) -> dict[str, Any]:
    """Print cross-validated recall per attack family and FP rate per benign family; return the summary."""
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row, score in zip(rows, scores, strict=True):
        entry = tally[family_name(row)]
        entry[0] += 1
        entry[1] += int(score >= threshold)
        entry[2] = row.label
    summary: dict[str, Any] = {"threshold": round(threshold, 4), "families": {}}
    for label, what in ((1, "recall"), (0, "FPR")):
        for name, (n, flagged, lab) in sorted(tally.items()):
            if lab == label:
                print(f"  {name:<62} {n:>5}  {what} {flagged / n:6.1%}")
                summary["families"][name] = {"n": n, "flagged": flagged}
    for origin, label, what in (
        ("injection_dev", 1, "eval tune attacks"),
        ("benign_lessons_dev", 0, "eval tune benign lessons"),
        ("injection_dev", 0, "eval tune other benign"),
        ("written", 1, "written attacks"),
        ("written", 0, "written benign"),
    ):
        picked = [s >= threshold for r, s in zip(rows, scores, strict=True) if r.origin == origin and r.label == label]
        if picked:
            rate = sum(picked) / len(picked)
            print(f"  {'ALL ' + what:<62} {len(picked):>5}  {'recall' if label else 'FPR'} {rate:6.1%}")
            summary[what] = round(rate, 4)
    return summary


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    """Train, cross-validate, choose the threshold and write the head."""
    from purpose_agent_immune_semantic.head import HEAD_PATH, Head, write_head

    parser = argparse.ArgumentParser(description="Train the immune-semantic head.")
    parser.add_argument("--eval-dir", type=Path, default=None, help="directory with the eval JSONL files (default: $PURPOSE_AGENT_EVAL_DIR or ../shared/eval)")
    parser.add_argument("--written-only", action="store_true", help="train on the written data alone (no eval rows)")
    parser.add_argument("--written", type=Path, default=HERE / "written_train.jsonl")
    parser.add_argument("--out", type=Path, default=HEAD_PATH, help="where to write the head (default: the package's head.json)")
    parser.add_argument("--cache", default=str(Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "purpose-agent" / "immune-semantic-training.sqlite"),
                        help="embedding cache file, or 'none'")
    parser.add_argument("--max-fp", type=float, default=MAX_FP, help="false-positive budget on benign lessons (default 0.01)")
    parser.add_argument("--dump-cv", type=Path, default=None, help="write each row's cross-validated score (JSON Lines) here, to study thresholds")
    parser.add_argument("--no-cv", action="store_true", help="skip cross-validation (the threshold then comes from the training scores; for tests)")
    args = parser.parse_args(argv)

    rows = written_rows(args.written)
    if not args.written_only:
        eval_dir = args.eval_dir or Path(os.environ.get("PURPOSE_AGENT_EVAL_DIR", DEFAULT_EVAL_DIR))
        rows += eval_rows(eval_dir)
    ex = window_examples(rows)
    print(f"{len(rows)} rows -> {len(ex.texts)} windows ({len(set(ex.texts))} distinct)", flush=True)
    started = time.perf_counter()
    vectors = embed_all(ex.texts, None if args.cache == "none" else Path(args.cache))
    model_id = embed_all.model_id  # type: ignore[attr-defined]
    x = head_inputs(vectors, ex.texts)
    print(f"embedded with {model_id} in {time.perf_counter() - started:.0f} s", flush=True)

    folds = np.array([fold_of(rows[i].text) for i in ex.row])
    is_lesson = np.array([r.label == 0 and group_of(r) == "benign_lessons" for r in rows])
    is_prompt = np.array([r.label == 0 and group_of(r) == "benign_prompts" for r in rows])
    summary: dict[str, Any] = {}
    if args.no_cv:
        layers = train_head(rows, ex, x, np.ones(len(ex.row), bool))
        scores = row_scores(ex, predict(layers, x), len(rows))
        threshold = max(choose_threshold(scores[is_lesson], args.max_fp), choose_threshold(scores[is_prompt], MAX_PROMPT_FP, 1.0))
    else:
        window_scores = np.zeros(len(ex.row))
        for fold in range(FOLDS):
            held = folds == fold
            layers = train_head(rows, ex, x, ~held)
            window_scores[held] = predict(layers, x[held])
            print(f"  fold {fold + 1}/{FOLDS} done ({time.perf_counter() - started:.0f} s)", flush=True)
        scores = row_scores(ex, window_scores, len(rows))
        if args.dump_cv:
            args.dump_cv.write_text("".join(
                json.dumps({"origin": r.origin, "family": r.family, "label": r.label, "group": "attack" if r.label else group_of(r),
                            "score": round(float(sc), 6), "text": r.text}) + "\n" for r, sc in zip(rows, scores, strict=True)), encoding="utf-8")
        threshold = max(choose_threshold(scores[is_lesson], args.max_fp), choose_threshold(scores[is_prompt], MAX_PROMPT_FP, 1.0))
        print(f"cross-validated, threshold {threshold:.4f} (at most {args.max_fp * FP_MARGIN:.2%} of benign lessons "
              f"and {MAX_PROMPT_FP:.2%} of benign prompts):")
        summary = report(rows, scores, threshold)
        layers = train_head(rows, ex, x, np.ones(len(ex.row), bool))
    test_path = args.written.with_name("written_test.jsonl")
    if test_path.exists():
        test_rows = written_rows(test_path)
        test_ex = window_examples([TrainRow(r.text, r.label, r.family, r.origin) for r in test_rows], SCAN_WINDOW)
        test_x = head_inputs(embed_all(test_ex.texts, None if args.cache == "none" else Path(args.cache)), test_ex.texts)
        print(f"written test split (templates and texts held out of training; scanned as the scanner does), threshold {threshold:.4f}:")
        summary["written_test"] = report(test_rows, row_scores(test_ex, predict(layers, test_x), len(test_rows)), threshold)
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[f"{row.origin}:{'attack' if row.label else 'benign'}"] += 1
    head = Head(
        layers=layers,
        threshold=threshold,
        embedder=EMBEDDER,
        model_id=model_id,
        dimension=int(vectors.shape[1]),
        window=dict(SCAN_WINDOW),
        ngrams=dict(NGRAMS),
        meta={"rows": dict(sorted(counts.items())), "windows": len(ex.texts), "cross_validated": summary, "hidden": HIDDEN,
              "epochs": EPOCHS, "seed": SEED, "l2": L2, "max_fp": args.max_fp, "trained_window": dict(WINDOW),
              "max_prompt_fp": MAX_PROMPT_FP},
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_head(head, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
