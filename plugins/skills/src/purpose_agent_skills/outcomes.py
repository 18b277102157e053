"""Crediting a skill version with the result of the run that used it.

The ``use_skill`` tool records each use at once with the tool's own outcome (did the call
succeed). When the run is scored, the observer side of the plugin replaces that outcome with the
run's: a success when the critic's score reaches ``success_score``. The tool names the use in its
observation's origin (``skills/NAME@vN#USE``), which the ``tool.finished`` event carries with the
run id; ``run.finished`` carries the score. A run without a score keeps the tool's outcome.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import Any

from .store import SkillStore

#: How many uses may wait for their run's result at once; the oldest are forgotten beyond it
#: (they keep the tool's own outcome).
_MAX_OPEN = 10_000
_USE_IN_ORIGIN = re.compile(r"skills/[^#\s]+#([0-9a-f]{32})$")

_lock = threading.Lock()
_open: OrderedDict[str, tuple[SkillStore, float]] = OrderedDict()
_by_run: dict[str, list[str]] = {}


def origin_name(name: str, version: int, use_id: str) -> str:
    """The observation origin name that identifies one use."""
    return f"skills/{name}@v{version}#{use_id}"


def expect(use_id: str, store: SkillStore, success_score: float) -> None:
    """Wait for the result of the run that made use ``use_id``."""
    with _lock:
        _open[use_id] = (store, success_score)
        while len(_open) > _MAX_OPEN:
            _open.popitem(last=False)


def observe(event: Any) -> None:
    """Link a use to its run (``tool.finished``), credit it with the score of the run that
    finished (``run.finished``; for a member of a team, ``team.finished`` when the member run
    itself has no score)."""
    if event.type == "tool.finished":
        match = _USE_IN_ORIGIN.search(str(event.data.get("origin", "")))
        if match is not None:
            with _lock:
                if match.group(1) in _open:
                    for run_id in (event.run_id, event.parent_run_id):
                        if run_id:
                            _by_run.setdefault(run_id, []).append(match.group(1))
        return
    if event.type not in ("run.finished", "team.finished"):
        return
    score = event.data.get("score")
    with _lock:
        if score is None and event.type == "run.finished" and event.parent_run_id:
            _by_run.pop(event.run_id, None)  # the uses wait under the team run for its score
            return
        use_ids = _by_run.pop(event.run_id, [])
        waiting = [(use_id, _open.pop(use_id)) for use_id in use_ids if use_id in _open]
    if score is None:
        return
    for use_id, (store, success_score) in waiting:
        store.record_run_outcome(use_id, event.run_id, float(score), float(score) >= success_score)
