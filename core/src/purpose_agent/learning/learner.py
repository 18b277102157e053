"""The learning loop around runs: retrieve before, learn after.

    lessons = learner.retrieve(task)               # promoted, relevant, within budget
    result = run(task, lessons)                     # the caller's agent
    report = learner.after_run(RunRecord(...), used=lessons)

``after_run`` credits the lessons that were used (helpful on success, harmful on failure — only
items actually injected are touched), screens the run's tool outputs that were not screened yet
(a run not made by the runner, or with no scanner active then), extracts new candidates by
contrasting the run with a recent run of the same family that went the other way, plans small
edits against memory, and sends the new candidates through memory CI (screen, then replay on
stored tasks; candidates from a run with flagged inputs are held for review).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..models import MemoryItem, MemoryStatus, Observation
from .ci import MemoryCI, Replayer
from .edits import apply_edits, plan_edits
from .extraction import LessonExtractor, RunRecord, hindsight


@dataclass
class LearnReport:
    """What one run taught, and what memory CI decided."""

    proposed: int = 0
    edits: dict[str, int] = field(default_factory=dict)
    decisions: list[MemoryItem] = field(default_factory=list)

    def promoted(self) -> list[MemoryItem]:
        """Items promoted by this round of learning."""
        return [i for i in self.decisions if i.status == MemoryStatus.PROMOTED]


class Learner:
    """Retrieval before a run and learning after it, over one memory store."""

    def __init__(
        self,
        kernel: Any,
        store: Any,
        backend: Any,
        *,
        purpose: str = "",
        replayer: Replayer | None = None,
        success_at: float = 7.0,
        max_replays: int = 1,
        retrieval_limit: int = 10,
        retrieval_token_budget: int = 600,
    ) -> None:
        self.kernel = kernel
        self.store = store
        self.success_at = success_at
        self.retrieval_limit = retrieval_limit
        self.retrieval_token_budget = retrieval_token_budget
        from ..runtime.untrusted import UntrustedTextSettings

        spotlight = UntrustedTextSettings.from_config(kernel.config).spotlight
        self.extractor = LessonExtractor(backend, purpose=purpose, success_at=success_at, spotlight=spotlight)
        self.ci = MemoryCI(kernel, store, replayer=replayer, success_at=success_at, max_replays=max_replays)
        self.runs: list[RunRecord] = []

    def retrieve(self, task: str, *, family: str = "") -> list[MemoryItem]:
        """Promoted items relevant to ``task`` and in scope (relevance first, usefulness second, capped)."""
        from ..memory.retrieval import RetrievalPolicy, RunScope, retrieve

        scope = RunScope(purpose=self.extractor.purpose, task_family=family)
        policy = RetrievalPolicy(k=self.retrieval_limit, token_budget=self.retrieval_token_budget)
        return [r.item for r in retrieve(self.store, task, scope=scope, policy=policy)]

    def credit(self, used: Sequence[MemoryItem], value: float) -> None:
        """Count a use for each injected item: helpful on success, harmful on failure.

        Through the store's atomic ``record_use`` where it has one (SQLite, PostgreSQL): several
        processes crediting the same lesson at once all count, where a read-then-``update`` would
        keep only the last writer's increment.
        """
        from ..memory.errors import MemoryItemNotFound
        from ..memory.usefulness import record_use

        helpful = value >= self.success_at
        for item in used:
            try:
                record_use(self.store, item.id, helpful)
            except (MemoryItemNotFound, KeyError):
                continue  # removed since it was retrieved: nothing to credit

    def contrast_for(self, record: RunRecord) -> RunRecord | None:
        """The most recent run of the same family whose outcome was the opposite, leaving out runs
        whose tool outputs the scanners flagged: their text is not shown to the extractor again
        (and every lesson of a run contrasted with one would be held for review too)."""
        succeeded = record.value >= self.success_at
        for other in reversed(self.runs):
            if (other.task_family == record.task_family and (other.value >= self.success_at) != succeeded
                    and not any(s.observation is not None and s.observation.flagged for s in other.trajectory.steps)):
                return other
        return None

    def screened(self, record: RunRecord) -> RunRecord:
        """``record`` with every untrusted observation screened (those the runner screened are kept
        as they are): the provenance of its lessons then says what was flagged."""
        from dataclasses import replace

        from ..runtime.untrusted import screen_observations

        steps = record.trajectory.steps
        pending = [i for i, s in enumerate(steps) if s.observation is not None and s.observation.origin.untrusted
                   and not s.observation.screened]
        if not pending:
            return record
        observations: list[Observation] = [o for i in pending if (o := steps[i].observation) is not None]
        checked = screen_observations(self.kernel, observations)
        new_steps = list(steps)
        for i, observation in zip(pending, checked, strict=True):
            new_steps[i] = steps[i].model_copy(update={"observation": observation})
        return replace(record, trajectory=record.trajectory.model_copy(update={"steps": new_steps}))

    def after_run(self, record: RunRecord, used: Sequence[MemoryItem] = ()) -> LearnReport:
        """Credit, screen, extract, edit, and run memory CI for one finished run."""
        self.credit(used, record.value)
        record = self.screened(record)
        proposals = self.extractor.extract(record, self.contrast_for(record))
        episode = hindsight(record, success_at=self.success_at)
        if episode is not None:
            proposals.append(episode)
        edits = plan_edits(proposals, self.store.list())
        added = apply_edits(edits, self.store, self.kernel)
        self.runs.append(record)
        same_family = [r.trajectory.task for r in reversed(self.runs) if r.task_family == record.task_family]
        self.ci.replay_tasks = list(dict.fromkeys(same_family))
        counts: dict[str, int] = {}
        for edit in edits:
            counts[edit.op] = counts.get(edit.op, 0) + 1
        # Items of this family left waiting for a replay (e.g. by a process that died mid-way) are
        # replayed now that there are tasks to replay; otherwise nothing would ever decide them.
        new_ids = {item.id for item in added}
        pending = [item for item in self.ci.unfinished() if item.id not in new_ids and self._in_scope(item, record)]
        return LearnReport(proposed=len(proposals), edits=counts, decisions=self.ci.process([*added, *pending]))

    def _in_scope(self, item: MemoryItem, record: RunRecord) -> bool:
        """Whether a run of ``record``'s family could retrieve ``item`` (so replaying it there means something)."""
        level, value = item.scope.level, item.scope.value
        return (level == "global" or (level == "purpose" and value == self.extractor.purpose)
                or (level == "task_family" and value == (record.task_family or record.trajectory.task[:80])))
