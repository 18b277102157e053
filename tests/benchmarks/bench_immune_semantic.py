"""The semantic immune tier: quality on data it was not trained on, next to the rule tier, and speed.

Run: ``.venv/bin/python tests/benchmarks/bench_immune_semantic.py [--lessons N] [--eval-dir DIR] [--speed-only]``

Quality (``--eval-dir``, default ``../shared/eval`` or ``$PURPOSE_AGENT_EVAL_DIR``): the **held-out
fifth** of ``injection_dev.jsonl`` and ``benign_lessons_dev.jsonl`` (rows whose id hashes into the
held-out split; the head was trained on the tune split only), and the written test split
(``plugins/immune-semantic/training/written_test.jsonl``: templates and texts kept out of
training). For each: the rule tier alone (the five ``purpose-agent-immune`` scanners), the
semantic tier alone, and both together — attack recall, recall on the indirect families (attacks
inside data: BIPIA and CyberSecEval's indirect rows), and the false-positive rate on benign rows
and on benign lessons. Rows count as flagged at ``high`` (what blocks promotion).

Speed, on one core, embeddings not cached (every text is new to the scanner):
``lessons_per_s`` for N benign lessons scanned one at a time by the semantic tier, next to the rule
tier on the same lessons in the same run (a ratio, because the machine is shared), p50/p99
milliseconds per lesson, and the time for a 16,000-character lesson (the kernel's default size
cap) and a 32,000-character text (the semantic tier's default cap), with the windows embedded
and whether it would pass (no finding, and within the kernel's default scan deadline of 2 s).

The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import purpose_agent_immune_semantic
import purpose_agent_minilm
from purpose_agent.models import ScanRequest
from purpose_agent.testing import make_kernel
from purpose_agent_immune import plugins as rule_plugins
from purpose_agent_immune.evaluation import Row, evaluate, load_rows, select

REPO = Path(__file__).resolve().parents[2]
WRITTEN_TEST = REPO / "plugins" / "immune-semantic" / "training" / "written_test.jsonl"
RULES = {p.plugin_id: p for p in (rule_plugins.injection, rule_plugins.score, rule_plugins.tools, rule_plugins.privacy, rule_plugins.scope)}
SEMANTIC = {"immune-semantic": purpose_agent_immune_semantic, "minilm": purpose_agent_minilm}
NO_CACHE = {"runtime": {"embedding_cache": False}, "kernel": {"scan_timeout_s": 120}}


def is_indirect(family: str) -> bool:
    """Attacks planted inside data (documents, e-mails, tool outputs), not typed by the user."""
    return "indirect" in family or (family.startswith("written:") and not family.endswith(":direct"))


def kernels() -> dict[str, Any]:
    return {
        "rules": make_kernel(RULES, config=NO_CACHE),
        "semantic": make_kernel(SEMANTIC, config=NO_CACHE),
        "together": make_kernel(RULES, SEMANTIC, config=NO_CACHE),
    }


def quality(kernel: Any, rows: list[Row], lessons: list[Row]) -> dict[str, Any]:
    report = evaluate(kernel, rows)
    attacks = {name: r for name, r in report.families.items() if r.label == 1}
    benign = {name: r for name, r in report.families.items() if r.label == 0}
    indirect = {name: r for name, r in attacks.items() if is_indirect(name)}

    def rate(group: dict[str, Any]) -> float | None:
        n = sum(r.n for r in group.values())
        return round(sum(r.flagged for r in group.values()) / n, 4) if n else None

    out = {"attack_recall": rate(attacks), "indirect_recall": rate(indirect), "benign_fpr": rate(benign),
           "attacks": sum(r.n for r in attacks.values()), "indirect": sum(r.n for r in indirect.values()),
           "benign": sum(r.n for r in benign.values())}
    if lessons:
        lesson_report = evaluate(kernel, lessons)
        out["lessons_fpr"] = round(sum(r.flagged for r in lesson_report.families.values()) / len(lessons), 4)
        out["lessons"] = len(lessons)
    return out


def written_rows() -> list[Row]:
    rows = []
    for index, line in enumerate(WRITTEN_TEST.read_text(encoding="utf-8").split("\n")):
        if line.strip():
            data = json.loads(line)
            carrier = "direct" if data.get("carrier") == "direct" else "in-data"
            family = f"written:{data['kind']}:{carrier}" if data["label"] else f"written-benign:{data['kind']}"
            rows.append(Row(id=f"w{index}", text=data["text"], label=int(data["label"]), family=family))
    return rows


def timed_scans(kernel: Any, texts: list[str]) -> list[float]:
    times = []
    for text in texts:
        started = time.perf_counter()
        kernel.scan(ScanRequest(text=text, source="lesson"))
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lessons", type=int, default=300, help="benign lessons timed one at a time (default 300)")
    parser.add_argument("--speed-only", action="store_true", help="skip the quality figures")
    parser.add_argument("--eval-dir", type=Path, default=Path(os.environ.get("PURPOSE_AGENT_EVAL_DIR", REPO.parent / "shared" / "eval")))
    args = parser.parse_args()
    results: dict[str, Any] = {"quality": {}}
    built = kernels()

    datasets: dict[str, tuple[list[Row], list[Row]]] = {"written_test": (written_rows(), [])}
    injection = args.eval_dir / "injection_dev.jsonl"
    lessons_file = args.eval_dir / "benign_lessons_dev.jsonl"
    if injection.exists() and lessons_file.exists():
        datasets["eval_holdout"] = (select(load_rows(injection), "holdout"), select(load_rows(lessons_file), "holdout"))
    else:
        print(f"(no evaluation data in {args.eval_dir}; quality on the written test split only)")
    for name, (rows, lessons) in ({} if args.speed_only else datasets).items():
        print(f"\n{name}: {len(rows)} rows, {len(lessons)} benign lessons (flagged = a high finding)")
        print(f"  {'tier':<10} {'recall':>8} {'indirect':>9} {'benign FP':>10} {'lessons FP':>11}")
        results["quality"][name] = {}
        for tier, kernel in built.items():
            figures = quality(kernel, rows, lessons)
            results["quality"][name][tier] = figures

            def pct(value: float | None) -> str:
                return "-" if value is None else f"{value:.1%}"

            print(f"  {tier:<10} {pct(figures['attack_recall']):>8} {pct(figures['indirect_recall']):>9} "
                  f"{pct(figures['benign_fpr']):>10} {pct(figures.get('lessons_fpr')):>11}")

    # Speed: texts the scanner has not seen (no cache), one at a time, both tiers in this run.
    if lessons_file.exists():
        pool = [row.text for row in load_rows(lessons_file)]
    else:
        pool = [row.text for row in written_rows() if row.label == 0]
    texts = [f"{text} ({i})" for i, text in enumerate(pool[: args.lessons])]
    semantic, rules = built["semantic"], built["rules"]
    timed_scans(semantic, ["warm up the model"])  # the model loads once per process (outside the figure)
    timed_scans(rules, ["warm up the rules"])  # so do the rule files and RE2 patterns
    rule_times = timed_scans(rules, texts)
    cpu = time.process_time()
    semantic_times = timed_scans(semantic, [t + " " for t in texts])
    cpu = time.process_time() - cpu
    ordered = sorted(semantic_times)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    speed = {
        "lessons": len(texts),
        "mean_chars": round(statistics.mean(len(t) for t in texts)),
        "semantic_lessons_per_s": round(len(texts) / sum(semantic_times), 1),
        "semantic_lessons_per_cpu_s": round(len(texts) / cpu, 1),
        "rules_lessons_per_s": round(len(texts) / sum(rule_times), 1),
        "p50_ms": round(1000 * statistics.median(semantic_times), 1),
        "p99_ms": round(1000 * p99, 1),
    }
    from purpose_agent_immune_semantic.scanner import SCANNER

    # Timed under the generous deadline of NO_CACHE: a call abandoned at the default 2 s would keep
    # running on its thread (blocking the next scan, and crashing ONNX Runtime at exit).
    embedder = semantic.embedder(SCANNER.head().embedder)
    deadline = make_kernel(SEMANTIC, config={"runtime": {"embedding_cache": False}}).config.scan_timeout_s
    for chars in (16_000, 32_000):
        # Every sentence distinct: identical windows would be embedded once.
        text = "".join(f"When deploy {i} fails, read its log, roll back, and report step {i} with its exit code. " for i in range(chars // 60))[:chars]
        before = embedder.misses
        started = time.perf_counter()
        found = semantic.scan(ScanRequest(text=text, source="document"))
        speed[f"text_{chars}_s"] = round(time.perf_counter() - started, 2)
        # Texts embedded (sentences alone, then the windows around a suspicious one) against the windows in the text.
        speed[f"text_{chars}_windows"] = f"{embedder.misses - before}/{len(SCANNER.windows_of(text))}"
        # Passed: no finding, within the kernel's default deadline ([kernel] scan_timeout_s).
        speed[f"text_{chars}_passed"] = not found and speed[f"text_{chars}_s"] <= deadline
    results["speed"] = speed
    print(f"\nspeed (one text at a time, not cached): semantic {speed['semantic_lessons_per_s']} lessons/s "
          f"({speed['semantic_lessons_per_cpu_s']} per CPU-second), rules {speed['rules_lessons_per_s']} lessons/s; "
          f"semantic p50 {speed['p50_ms']} ms, p99 {speed['p99_ms']} ms per lesson (mean {speed['mean_chars']} chars); "
          f"16,000 chars {speed['text_16000_s']} s ({speed['text_16000_windows']} texts embedded / windows, passed: {speed['text_16000_passed']}), "
          f"32,000 chars {speed['text_32000_s']} s ({speed['text_32000_windows']}, passed: {speed['text_32000_passed']})")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
