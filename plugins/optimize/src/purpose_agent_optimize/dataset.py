"""Recorded runs as a chat fine-tuning dataset, and a LoRA/distillation plan as a dry run.

Each exported row is one member run in the chat format fine-tuning services and trainers read::

    {"messages": [{"role": "system", ...}, {"role": "user", ...},
                  {"role": "assistant", "content": "", "tool_calls": [...]}, {"role": "tool", ...},
                  {"role": "assistant", "content": "<answer>"}],
     "metadata": {"run_id": ..., "role": ..., "score": 0.9, "untrusted": [{"message": 3, ...}], ...}}

Rows are kept when their run scored at least ``min_score`` (the critic's 0..10 score divided by
10), deduplicated by a hash of their normalised messages (NFKC, case-folded, whitespace
collapsed), and screened: every message text goes through the active immune scanners and a row
with any blocking finding is dropped and counted, as is a row whose tool output was flagged
while the run happened. Tool messages are text from outside: the metadata names each one
(``untrusted``: message index and origin), so a trainer can mask them from the loss.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ExportReport", "PlanAssumptions", "chat_row", "export_dataset", "plan", "row_hash"]

#: Roles a message of the chat format may have.
MESSAGE_ROLES = ("system", "user", "assistant", "tool")

_SPACE = re.compile(r"\s+")


def _system_prompt(record: dict[str, Any], pack_text: str | None) -> str:
    parts = [f"You are the {record['role']} of a team.", f"Purpose: {record['purpose']}"]
    if pack_text:
        parts.append(f"Project instructions:\n{pack_text}")
    return "\n\n".join(parts)


def chat_row(record: dict[str, Any], pack_text: str | None = None) -> dict[str, Any]:
    """One recorded member run as a chat-format row (messages + metadata)."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": _system_prompt(record, pack_text)},
                                      {"role": "user", "content": record["task"]}]
    untrusted: list[dict[str, Any]] = []
    for index, step in enumerate(record["trajectory"]):
        if step["action"] == "tool":
            call_id = f"call_{index}"
            messages.append({"role": "assistant", "content": step.get("thought") or "",
                             "tool_calls": [{"id": call_id, "type": "function",
                                             "function": {"name": step["tool"],
                                                          "arguments": json.dumps(step["arguments"], sort_keys=True)}}]})
            observation = step.get("observation") or {}
            content = observation.get("output") if observation.get("ok") else f"error: {observation.get('error')}"
            messages.append({"role": "tool", "tool_call_id": call_id, "content": content or ""})
            if observation.get("untrusted", True):
                untrusted.append({"message": len(messages) - 1, "origin": observation.get("origin", "tool"),
                                  "screened_in_run": bool(observation.get("screened"))})
        elif step["action"] in ("answer", "done"):
            messages.append({"role": "assistant", "content": step.get("text") or ""})
    score = record.get("score")
    metadata = {
        "source": "purpose-agent-optimize", "run_id": record["run_id"], "member_run_id": record["member_run_id"],
        "role": record["role"], "task_family": record["task_family"],
        "score": None if score is None else round(score / 10.0, 4), "recorded_at": record["recorded_at"],
        "pack_version": record.get("pack_version"), "untrusted": untrusted,
    }
    return {"messages": messages, "metadata": metadata}


def row_hash(row: dict[str, Any]) -> str:
    """The hash rows are deduplicated by: their messages, normalised (not their metadata)."""
    parts = []
    for message in row["messages"]:
        text = message.get("content") or ""
        for call in message.get("tool_calls", []):
            text += f" {call['function']['name']} {call['function']['arguments']}"
        normalised = _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()
        parts.append(f"{message['role']}\x1f{normalised}")
    return hashlib.sha256("\x1e".join(parts).encode("utf-8")).hexdigest()


@dataclass
class ExportReport:
    """What an export kept and why it left the rest out."""

    considered: int = 0
    written: int = 0
    below_score: int = 0
    duplicates: int = 0
    flagged_in_run: int = 0
    flagged_by_scanners: int = 0
    estimated_tokens: int = 0
    flag_reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain data (for ``--json``)."""
        return asdict(self)


def _estimate_tokens(row: dict[str, Any]) -> int:
    # About four characters per token, as the kernel's prompt budgets assume; no tokenizer needed.
    return sum(math.ceil(len(json.dumps(message, ensure_ascii=False)) / 4) for message in row["messages"])


def export_dataset(records: Iterable[dict[str, Any]], out: Path | None, *, min_score: float,
                   screen: Callable[[list[tuple[str, str]]], list[str]],
                   pack_text: Callable[[str, int], str | None]) -> ExportReport:
    """Write the rows that pass (to ``out``, or nowhere for a plan) and say what was left out.

    ``screen(texts)`` takes ``(text, source)`` pairs and returns, for each, ``""`` or why it is
    blocked; ``pack_text(role, version)`` gives the pack a run used."""
    report = ExportReport()
    kept: list[dict[str, Any]] = []
    seen: set[str] = set()
    for record in records:
        report.considered += 1
        score = record.get("score")
        if score is None or score / 10.0 < min_score:
            report.below_score += 1
            continue
        if any(step.get("observation", {}).get("flagged") for step in record["trajectory"]):
            report.flagged_in_run += 1
            continue
        version = record.get("pack_version")
        row = chat_row(record, pack_text(record["role"], version) if version else None)
        digest = row_hash(row)
        if digest in seen:
            report.duplicates += 1
            continue
        seen.add(digest)
        kept.append(row)
    texts = [(message.get("content") or "", "tool_output" if message["role"] == "tool" else "prompt")
             for row in kept for message in row["messages"]]
    verdicts = iter(screen(texts)) if texts else iter(())
    rows = []
    for row in kept:
        reasons = [reason for _message in row["messages"] if (reason := next(verdicts))]
        if reasons:
            report.flagged_by_scanners += 1
            for reason in reasons:
                key = reason.split(":", 1)[0]
                report.flag_reasons[key] = report.flag_reasons.get(key, 0) + 1
            continue
        rows.append(row)
        report.estimated_tokens += _estimate_tokens(row)
    report.written = len(rows)
    if out is not None:
        # Written to a temporary file and renamed: a killed export leaves no half-written dataset.
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".partial")
        with partial.open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        partial.replace(out)
    return report


@dataclass
class PlanAssumptions:
    """The stated assumptions a training plan is computed from (each one a command-line option)."""

    epochs: int = 3
    #: Price of training per million tokens seen (tokens × epochs), in USD; a hosted LoRA job's
    #: list price is of this order for a 7–8B model. Set your provider's.
    usd_per_million_tokens: float = 3.0
    #: Training throughput, tokens per second: a LoRA on a 7–8B model on one 24 GB GPU.
    tokens_per_second: float = 2500.0
    lora_rank: int = 16
    #: Rows held out for evaluation.
    eval_fraction: float = 0.1


def plan(report: ExportReport, assumptions: PlanAssumptions) -> dict[str, Any]:
    """A LoRA/distillation plan for the exported rows, as a dry run: sizes, cost and time, no training."""
    rows = report.written
    eval_rows = math.ceil(rows * assumptions.eval_fraction) if rows >= 10 else 0
    train_rows = rows - eval_rows
    per_row = report.estimated_tokens / rows if rows else 0.0
    trained_tokens = round(per_row * train_rows * assumptions.epochs)
    warnings = []
    if train_rows < 100:
        warnings.append(f"only {train_rows} training rows: a LoRA usually wants hundreds to thousands; "
                        "record more runs or lower --min-score")
    return {
        "dry_run": True,
        "rows": rows, "train_rows": train_rows, "eval_rows": eval_rows,
        "tokens_per_row": round(per_row, 1), "dataset_tokens": report.estimated_tokens,
        "epochs": assumptions.epochs, "trained_tokens": trained_tokens,
        "estimated_cost_usd": round(trained_tokens / 1e6 * assumptions.usd_per_million_tokens, 4),
        "estimated_hours": round(trained_tokens / assumptions.tokens_per_second / 3600, 4),
        "lora_rank": assumptions.lora_rank,
        "assumptions": asdict(assumptions) | {"tokens": "about 4 characters per token (no tokenizer)"},
        "warnings": warnings,
    }
