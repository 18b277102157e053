"""Memory CI: no lesson is trusted until it has been screened and replayed.

    candidate ──scan──▶ quarantined ──replay──▶ promoted
        │                   │
        └─ blocked ─▶ rejected     └─ regression ─▶ rejected

* **Screen**: every active immune scanner reads the item (through the kernel, which fails
  closed). A finding at or above ``blocking_severity`` rejects it. With *no* scanner active,
  nothing moves: the item stays a candidate and :meth:`MemoryCI.status` says why.
* **Replay**: stored tasks are run twice through the real backend and critic — without the
  candidate and with it. It is promoted only if the runs with it score higher (by more than
  ``min_gain``); a drop beyond ``tolerance`` is a regression, and no change is "no gain" — both
  rejected with the figures. The runs are independent jobs: with ``replay_worker`` (or an
  ``executor``) set they go through an executor (``[runtime] executor``: in this process, or
  spread over a Ray cluster), all of one candidate's at once, and decide exactly as in series.
  Items taught by a user that have no stored task to replay are promoted on the screen alone, and
  the reason says so.
* **Hold for review**: an item derived from a run whose tool outputs or documents the scanners
  flagged (or that nothing screened: ``Provenance.flagged_inputs``) is screened like any other,
  then quarantined with a ``held for review: …`` reason and never replayed or promoted
  automatically; an operator decides (``purpose-agent memory review``, then ``memory promote`` or
  ``memory reject``). Replay cannot clear it: poison that helps the task passes a replay.
* Every transition is a new version of the item with ``status_reason``, so the history shows who
  decided what, and why.
* **Resume**: screening and replay are separate writes, so a process that dies between them leaves
  items in ``candidate`` or ``quarantined``. :meth:`MemoryCI.resume` (run whenever a team opens
  its memory) carries every such item on; items an operator put there are left alone. A taught
  item avoids the gap: it is screened before it is stored and written once, already decided
  (:meth:`MemoryCI.decide_taught`).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..models import Finding, MemoryItem, MemoryStatus, ScanRequest, Severity
from .extraction import NOT_SCREENED

#: Tag on a new item naming an item it contradicts: ``supersedes:<id>``.
SUPERSEDES_TAG = "supersedes:"

#: ``replay(task, lessons) -> score 0..10``: run one stored task with exactly these lessons.
Replayer = Callable[[str, list[str]], float]

#: One replay run sent to an executor: ``(task, lessons)``. A ``replay_worker`` is a function of
#: one job returning the score (or a :class:`purpose_agent.interfaces.WorkerSpec` building one).
ReplayJob = tuple[str, list[str]]

#: Why a candidate waits when nothing can screen it.
WAITING_FOR_SCANNER = "waiting: no immune scanner is active, so nothing can be screened or promoted"


def oversize_reason(text: str, limit: int) -> str:
    """``""`` when ``text`` fits in ``limit`` characters; else the sentence that says the limit and
    how to raise it. ``teach()`` and memory CI refuse such a text before any scanner reads it."""
    if len(text) <= limit:
        return ""
    return (
        f"the lesson is {len(text):,} characters, over the limit of {limit:,} ([memory] max_lesson_chars); "
        "shorten it, or raise max_lesson_chars under [memory] in purpose-agent.toml"
    )


#: How a taught item with no stored task to replay is promoted.
TAUGHT_PROMOTION = "taught by a user; no stored task to replay yet"

#: How :func:`purpose_agent.memory.lifecycle.change_status` marks an operator's (or an import's) decision.
OPERATOR_PREFIX = "operator override"

#: How memory CI marks an item it will not decide: derived from a run with flagged inputs.
HELD_PREFIX = "held for review: "


def is_held(item: MemoryItem) -> bool:
    """Whether memory CI holds ``item`` for an operator's review (it is never promoted automatically)."""
    return item.status == MemoryStatus.QUARANTINED and item.status_reason.startswith(HELD_PREFIX)


def hold_reason(item: MemoryItem) -> str:
    """``""`` when nothing in the item's source run(s) was flagged; otherwise the ``held for review``
    reason, naming the first flagged input (step, origin, scanner/category) and how many more."""
    flagged = item.provenance.flagged_inputs
    if not flagged:
        return ""
    first = flagged[0]
    kind, _, name = first.origin.partition(":")
    where = (f"{kind} output at step {first.step}" if first.step is not None else f"{kind} output") + (
        f" ({kind} {name})" if name else "")
    if first.category == NOT_SCREENED:
        what = "was never screened (no immune scanner was active)"
    else:
        what = f"was flagged by {first.scanner}/{first.category}"
    more = f"; {len(flagged) - 1} more flagged input(s)" if len(flagged) > 1 else ""
    return f"{HELD_PREFIX}derived from a run whose {where} {what}{more}"


@dataclass
class ReplayReport:
    """The evidence a promotion decision rests on."""

    tasks: list[str]
    without: list[float]
    with_item: list[float]

    @property
    def delta(self) -> float:
        """Mean score with the item minus without."""
        return statistics.fmean(self.with_item) - statistics.fmean(self.without)


@dataclass
class MemoryCI:
    """Moves items through screening and replay, recording each decision."""

    kernel: Any
    store: Any
    replayer: Replayer | None = None
    replay_tasks: Sequence[str] = ()
    blocking_severity: Severity = Severity.HIGH
    tolerance: float = 0.0
    min_gain: float = 0.0
    success_at: float = 7.0
    max_replays: int = 2
    log: list[str] = field(default_factory=list)
    #: Where replay runs go: ``None`` runs them one after another here through ``replayer`` (unless
    #: ``replay_worker`` is set, then ``[runtime] executor``); an executor's name or object sends them
    #: there. ``replay_worker`` is what runs a :data:`ReplayJob` on the executor (default: ``replayer``,
    #: which only an in-process executor can call; a Ray worker needs a module-level function or a
    #: ``WorkerSpec``); ``replay_concurrency`` bounds the jobs in flight; a job that fails is run again
    #: ``replay_retries`` more times, and if it still fails the item stays quarantined and the error is raised.
    executor: Any = None
    replay_worker: Any = None
    replay_concurrency: int = 8
    replay_retries: int = 0
    _built_executor: Any = field(default=None, init=False, repr=False)

    def _move(self, item: MemoryItem, status: MemoryStatus, reason: str) -> MemoryItem:
        updated = self.store.update(item.model_copy(update={"status": status, "status_reason": reason}))
        self.log.append(f"{item.id[:8]} {item.status.value} -> {status.value}: {reason}")
        return updated

    def screening(self, item: MemoryItem) -> tuple[MemoryStatus, str, list[Finding]]:
        """What screening decides for ``item``, without writing anything: ``(status, reason,
        findings)``. ``CANDIDATE`` means it must wait: no scanner is active, or a scanner the
        configuration enables cannot run (fail closed; the reason names it and the fix). A text
        over ``[memory] max_lesson_chars`` is rejected unread."""
        too_long = oversize_reason(item.text, self.kernel.config.max_lesson_chars)
        if too_long:
            return MemoryStatus.REJECTED, f"too long: {too_long}", []
        refusal = self.kernel.screening_refusal()
        if refusal:
            return MemoryStatus.CANDIDATE, f"waiting: {refusal}", []
        scanners = self.kernel.scanners()
        if not scanners:
            return MemoryStatus.CANDIDATE, WAITING_FOR_SCANNER, []
        findings = list(self.kernel.scan(ScanRequest(text=item.text, source="lesson", item=item)))
        blocking = [f for f in findings if f.severity.rank >= self.blocking_severity.rank]
        if blocking:
            reasons = "; ".join(f"{f.scanner}/{f.category}: {f.explanation}" for f in blocking[:3])
            return MemoryStatus.REJECTED, f"blocked by scanners: {reasons}", findings
        note = f" ({len(findings)} low-severity finding(s))" if findings else ""
        held = hold_reason(item)
        if held:
            return MemoryStatus.QUARANTINED, f"{held} (its own text passed {len(scanners)} scanner(s){note})", findings
        return MemoryStatus.QUARANTINED, f"passed {len(scanners)} scanner(s){note}", findings

    def screen(self, item: MemoryItem) -> MemoryItem:
        """Scan a candidate; quarantine it, reject it, or leave it waiting if nothing can scan."""
        if item.status != MemoryStatus.CANDIDATE:
            return item
        status, reason, _ = self.screening(item)
        if status == MemoryStatus.CANDIDATE:
            if item.status_reason != reason:
                item = self.store.update(item.model_copy(update={"status_reason": reason}))
            return item
        return self._move(item, status, reason)

    def decide_taught(self, item: MemoryItem) -> tuple[MemoryItem, list[Finding]]:
        """The state a newly taught item should be *written* in, decided before it is stored.

        Screening needs no store, and a taught item with nothing to replay is decided by the
        screen alone, so ``teach()`` writes the item once, already promoted or rejected: a crash
        cannot leave it half-way. Only when replay tasks exist is it written ``quarantined``, and
        :meth:`replay` (or :meth:`resume`, after a crash) finishes it.
        """
        status, reason, findings = self.screening(item)
        if status == MemoryStatus.QUARANTINED and not self._can_replay() and not reason.startswith(HELD_PREFIX):
            status, reason = MemoryStatus.PROMOTED, f"{TAUGHT_PROMOTION}; {reason}"
        return item.model_copy(update={"status": status, "status_reason": reason}), findings

    def _can_replay(self) -> bool:
        return self.replayer is not None and bool(list(self.replay_tasks)[: self.max_replays])

    def unfinished(self) -> list[MemoryItem]:
        """Items the pipeline started and did not finish (a process died between its steps):
        candidates, and quarantined items whose last decision was the pipeline's own. Items an
        operator or an import moved there, and items held for review, stay where they are."""
        return [item for status in (MemoryStatus.CANDIDATE, MemoryStatus.QUARANTINED)
                for item in self.store.list(status=status)
                if not item.status_reason.startswith((OPERATOR_PREFIX, HELD_PREFIX))]

    def resume(self) -> list[MemoryItem]:
        """Carry every :meth:`unfinished` item on through screening and replay (called when a team
        opens its memory); return the items in their new state."""
        pending = self.unfinished()
        if pending and not self.kernel.scanners():
            # Nothing can screen a candidate now; leave those waiting (their reason says why)
            # rather than rewrite each one at every open.
            pending = [item for item in pending if item.status != MemoryStatus.CANDIDATE]
        return self.process(pending) if pending else []

    def replay(self, item: MemoryItem, promoted_texts: Sequence[str] = ()) -> MemoryItem:
        """Replay stored tasks with and without a quarantined item; promote or reject it. An item
        held for review is left alone: a replay gain would not clear it."""
        if item.status != MemoryStatus.QUARANTINED or is_held(item):
            return item
        tasks = list(self.replay_tasks)[: self.max_replays]
        if self.replayer is None or not tasks:
            if item.provenance.trust == "taught":
                return self._move(item, MemoryStatus.PROMOTED, f"{TAUGHT_PROMOTION}; passed the scanners")
            reason = "waiting: no replay tasks stored yet" if self.replayer else "waiting: no replayer configured"
            if item.status_reason != reason:
                item = self.store.update(item.model_copy(update={"status_reason": reason}))
            return item
        base = [t for t in promoted_texts if t != item.text]
        scores = self._run_replays([(t, list(base)) for t in tasks] + [(t, [*base, item.text]) for t in tasks])
        report = ReplayReport(tasks, scores[: len(tasks)], scores[len(tasks):])
        with_mean, without_mean = statistics.fmean(report.with_item), statistics.fmean(report.without)
        figures = f"replay on {len(tasks)} task(s): {without_mean:.1f} without, {with_mean:.1f} with"
        if report.delta < -self.tolerance:
            return self._move(item, MemoryStatus.REJECTED, f"regression: {figures}")
        if report.delta <= self.min_gain:
            # An item that changes nothing is not kept: memory that only grows gets noisier.
            return self._move(item, MemoryStatus.REJECTED, f"no gain: {figures}")
        return self._move(item, MemoryStatus.PROMOTED, f"improvement without regression: {figures}")

    def _run_replays(self, jobs: list[ReplayJob]) -> list[float]:
        """The score of each job, in order: here one after another, or through the executor."""
        assert self.replayer is not None
        if self.executor is None and self.replay_worker is None:
            return [self.replayer(task, lessons) for task, lessons in jobs]
        from ..runtime.flow import swarm

        replayer = self.replayer
        worker = self.replay_worker or (lambda job: replayer(*job))
        results = swarm(jobs, worker, executor=self._replay_executor(), concurrency=self.replay_concurrency,
                        retries=self.replay_retries)
        failed = next((r for r in results if isinstance(r, BaseException)), None)
        if failed is not None:
            raise failed
        return [float(r) for r in results]

    def _replay_executor(self) -> Any:
        """The executor object replays go to: the one given, or one built from this kernel by name
        (``executor``, else ``[runtime] executor``) once and kept for the next candidates."""
        from ..runtime.flow import IN_PROCESS

        chosen = self.executor or self.kernel.config.get("runtime.executor") or IN_PROCESS
        if not isinstance(chosen, str) or chosen == IN_PROCESS:
            return chosen
        if self._built_executor is None:
            self._built_executor = self.kernel.executor(chosen, max_in_flight=self.replay_concurrency)
        return self._built_executor

    def close(self) -> None:
        """Close the executor built for replays, if any (its workers and connections)."""
        built, self._built_executor = self._built_executor, None
        if built is not None:
            built.close()

    def process(self, items: Sequence[MemoryItem]) -> list[MemoryItem]:
        """Screen then replay each item; return them in their new state."""
        promoted = list(self.store.list(status=MemoryStatus.PROMOTED))
        out = []
        for item in items:
            item = self.screen(item)
            # Replay shows what a run in the candidate's scope would see, not every promoted item.
            in_scope = [p.text for p in promoted if p.scope.level in ("global", "purpose")
                        or (p.scope.level, p.scope.value) == (item.scope.level, item.scope.value)]
            item = self.replay(item, in_scope)
            if item.status == MemoryStatus.PROMOTED:
                promoted.append(item)
                self._retire_superseded(item)
            out.append(item)
        return out

    def _retire_superseded(self, item: MemoryItem) -> None:
        """Archive the items a newly promoted one supersedes — only now that it is trusted, so a
        rejected (perhaps poisoned) contradiction can never retire a good lesson."""
        for tag in item.tags:
            if not tag.startswith(SUPERSEDES_TAG):
                continue
            old = self.store.get(tag[len(SUPERSEDES_TAG):])
            if old is not None and old.status != MemoryStatus.ARCHIVED:
                self._move(old, MemoryStatus.ARCHIVED, f"superseded by {item.id}, which contradicts it and was promoted")

    def status(self) -> dict[str, Any]:
        """Counts per status, why anything is waiting, and how many items are held for review."""
        counts = {s.value: len(self.store.list(status=s)) for s in MemoryStatus}
        waiting = sorted({i.status_reason for s in (MemoryStatus.CANDIDATE, MemoryStatus.QUARANTINED)
                          for i in self.store.list(status=s) if i.status_reason.startswith("waiting")})
        held = sum(1 for i in self.store.list(status=MemoryStatus.QUARANTINED) if is_held(i))
        return {"counts": counts, "scanners": self.kernel.scanners(), "waiting": waiting, "held_for_review": held}


def waiting_reason(item: MemoryItem) -> str:
    """Why a candidate or quarantined item is not decided yet, in words (for ``memory list``)."""
    reason = item.status_reason.strip()
    if reason.startswith("waiting: "):
        return reason[len("waiting: "):]
    if reason.startswith(OPERATOR_PREFIX):
        return reason  # an operator (or an import) put it here; it stays until someone moves it
    if is_held(item):
        # The decision first: 'memory list' cuts this to one line.
        return (f"held for review, an operator decides ('purpose-agent memory review', then 'memory promote' or "
                f"'memory reject' {item.id[:12]} --reason ...): {reason[len(HELD_PREFIX):]}")
    if item.status == MemoryStatus.CANDIDATE:
        return ("not screened yet (interrupted before screening?); the next team that opens this memory "
                "screens it")
    screened = f"screened ({reason or 'no reason recorded'})"
    if item.provenance.trust == "taught":
        return f"{screened}; the next team that opens this memory finishes it (replay, or promotion as taught)"
    return f"{screened}; waiting for a replay, which the next scored run in its scope performs"


def maintain(store: Any, *, budget_per_scope: int = 50, harmful_margin: int = 2) -> list[str]:
    """Homeostasis: archive harmful items and keep each scope within its budget.

    An item is harmful when its ``harmful`` counter exceeds ``helpful`` by ``harmful_margin``.
    Over budget, the least useful promoted items of a scope are archived (never deleted).
    """
    log: list[str] = []
    promoted = store.list(status=MemoryStatus.PROMOTED)
    for item in promoted:
        if item.counters.harmful >= item.counters.helpful + harmful_margin:
            store.update(item.model_copy(update={"status": MemoryStatus.ARCHIVED, "status_reason":
                                                 f"harmful: {item.counters.harmful} harmful vs {item.counters.helpful} helpful"}))
            log.append(f"archived {item.id[:8]} as harmful")
    by_scope: dict[tuple[str, str], list[MemoryItem]] = {}
    for item in store.list(status=MemoryStatus.PROMOTED):
        by_scope.setdefault((item.scope.level, item.scope.value), []).append(item)
    for scope, items in by_scope.items():
        if len(items) <= budget_per_scope:
            continue
        items.sort(key=lambda i: (i.usefulness, i.counters.helpful - i.counters.harmful, i.updated_at))
        for item in items[: len(items) - budget_per_scope]:
            store.update(item.model_copy(update={"status": MemoryStatus.ARCHIVED,
                                                 "status_reason": f"over the budget of {budget_per_scope} for scope {scope[0]}:{scope[1]}"}))
            log.append(f"archived {item.id[:8]} over budget")
    return log
