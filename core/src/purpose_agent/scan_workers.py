"""Scanner calls under a deadline: :meth:`purpose_agent.kernel.Kernel.scan` runs the scanners on
a worker thread, so a scanner that hangs cannot hold up screening.

One call of :meth:`ScanWorkers.run` is one :class:`ScanJob`: for each text, every active
scanner's call, in order. An idle worker thread runs it while the caller waits; each text has
its own deadline (``[kernel] scan_timeout_s``) counted from when its first scanner starts. A job
that finishes in time gives back every result and its worker is reused. When a text passes its
deadline the job is abandoned: what finished is kept, the call still running is *overdue*, the
calls after it are *not run* (the kernel turns both into blocking findings), the worker is told
to stop once the stuck call returns, and the next scan gets a new worker. A scanner still stuck in
an abandoned call is not called again until that call returns (:meth:`ScanWorkers.busy_for`), so
a scanner that hangs on every text costs one thread, not one per text.

Handing a job to a thread and back costs two thread switches — measured in
``tests/benchmarks/bench_screening.py``, about 50 µs of CPU per hand-off on these machines — so
many texts go in one job (:meth:`purpose_agent.kernel.Kernel.scan_many`): one hand-off for the
batch, still one deadline per text.

A scanner's first call in a process may prepare it (compile its rules, load a model): the first
text that calls a scanner which has never answered may take up to the warm-up allowance
(``[kernel] scan_warmup_s``) instead of the deadline. Still bounded, and once per scanner.

A thread cannot interrupt C code that holds the interpreter lock. Python's ``re`` holds it for a
whole match: measured here, one ``re`` search in a rule held it for 7.9 s on a 1 MB text, and a
catastrophic pattern for 31 s, so ``scan`` returned then (with the overdue finding), not at the
deadline. Sleeping, socket and HTTP calls, model calls, RE2 (``google-re2``), numpy and
pure-Python loops let the waiting thread run and are cut off on time. That is why the rules
themselves must run in linear time.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

# Named tuples, not dataclasses: one of each is built per scanner per text, and a tuple is the
# cheapest object Python makes (this path runs thousands of times a second).


class ScannerCall(NamedTuple):
    """One scanner's hook call for one text: ``function(*args)``."""

    plugin_id: str
    function: Callable[..., Any]
    args: Sequence[Any]


class ScanOutcome(NamedTuple):
    """What one scanner call gave: its return value, or the exception it raised."""

    plugin_id: str
    result: Any
    error: BaseException | None


@dataclass
class ScanRun:
    """The result of :meth:`ScanWorkers.run`.

    ``outcomes[i]`` holds the finished calls of text ``i``. When a text passed its deadline,
    ``overdue`` is the call that was running, on the last text in ``outcomes``; ``not_run`` are
    that text's calls after it; the texts after it were not started (``len(outcomes)`` tells how
    many were) and the caller scans them again.
    """

    outcomes: list[list[ScanOutcome]]
    timeouts: list[float]  # the seconds each text was allowed
    overdue: ScannerCall | None = None
    not_run: list[ScannerCall] = field(default_factory=list)


class ScanJob:
    """The scanner calls for a batch of texts, run in order on a worker thread."""

    def __init__(self, texts: Sequence[Sequence[ScannerCall]]) -> None:
        self.texts = texts
        self.outcomes: list[list[ScanOutcome]] = []  # grows by one list as each text starts
        self.text_started = 0.0
        self.cancelled = False
        self.returned = False  # set once run() has left the last call it made
        self._finished = threading.Lock()
        self._finished.acquire()

    def run(self) -> None:
        """Make the calls until done or cancelled; never raises (errors are outcomes)."""
        try:
            for calls in self.texts:
                outcomes: list[ScanOutcome] = []
                self.text_started = time.perf_counter()  # before the append: see ScanWorkers.run
                self.outcomes.append(outcomes)
                for plugin_id, function, args in calls:
                    if self.cancelled:
                        return
                    try:
                        outcomes.append(ScanOutcome(plugin_id, function(*args), None))
                    except BaseException as exc:  # even SystemExit: it must become a finding, not end the worker
                        outcomes.append(ScanOutcome(plugin_id, None, exc))
        finally:
            self.returned = True
            self._finished.release()

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for every call to finish; ``True`` if they did."""
        return self._finished.acquire(timeout=max(timeout, 0.0))


class _Worker:
    """A daemon thread that runs the jobs put in its queue until it is sent ``None``."""

    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue[ScanJob | None] = queue.SimpleQueue()
        # daemon: a scanner stuck forever must not keep the interpreter from exiting
        threading.Thread(target=self._serve, name="purpose-agent-scan", daemon=True).start()

    def _serve(self) -> None:
        while (job := self.jobs.get()) is not None:
            job.run()


class ScanWorkers:
    """Worker threads for one kernel: idle ones are reused, one abandoned at a deadline is replaced."""

    def __init__(self) -> None:
        self._idle: list[_Worker] = []
        self._stuck: dict[str, ScanJob] = {}
        self._warm: set[str] = set()  # scanners that have answered once (raised or returned)

    @staticmethod
    def call(plugin_id: str, function: Callable[..., Any], args: Sequence[Any]) -> ScannerCall:
        """One scanner call for :meth:`run` (so a caller needs no import of this module per scan)."""
        return ScannerCall(plugin_id, function, args)

    def busy_for(self, plugin_id: str) -> float | None:
        """Seconds the scanner has been stuck in a call abandoned at an earlier deadline, or
        ``None`` if it is free to be called."""
        job = self._stuck.get(plugin_id)
        if job is None:
            return None
        if job.returned:
            self._stuck.pop(plugin_id, None)
            return None
        return time.perf_counter() - job.text_started

    def run(self, texts: Sequence[Sequence[ScannerCall]], deadline: float, warmup: float) -> ScanRun:
        """Run each text's calls in order on a worker thread. Each text may take ``deadline``
        seconds, or ``max(deadline, warmup)`` if it is the first to call a scanner that has never
        answered; the call returns when one passes it (later only if a scanner holds the
        interpreter lock, see the module docstring)."""
        timeouts: list[float] = []
        seen = set(self._warm)
        for calls in texts:
            cold = {call.plugin_id for call in calls} - seen
            seen |= cold
            timeouts.append(max(deadline, warmup) if cold else deadline)
        try:
            worker = self._idle.pop()  # list.pop is atomic: concurrent scans never share a worker
        except IndexError:
            worker = _Worker()
        job = ScanJob(texts)
        worker.jobs.put(job)
        submitted = time.perf_counter()
        while True:
            # The text in progress and when it started. The worker sets the start before it
            # appends, so a racing read can only pair an index with a later start, and then the
            # index has moved on at the next look.
            index = len(job.outcomes) - 1
            started = job.text_started if index >= 0 else submitted
            remaining = started + timeouts[max(index, 0)] - time.perf_counter()
            if remaining <= 0 and len(job.outcomes) - 1 == index:
                break  # the same text is still running (or never began) past its allowance
            # Never sleep past one deadline: the worker may have moved on to a text with a
            # shorter allowance than the warm-up text's.
            if job.wait(min(remaining, deadline)):
                self._idle.append(worker)
                self._warm |= seen  # every scanner answered
                return ScanRun(outcomes=job.outcomes, timeouts=timeouts)
        job.cancelled = True
        worker.jobs.put(None)  # it exits as soon as the call it is stuck in returns
        began = bool(job.outcomes)
        # Calls that return after this snapshot are ignored: they were late.
        outcomes = [list(done) for done in job.outcomes] or [[]]
        self._warm.update(outcome.plugin_id for done in outcomes for outcome in done)
        calls, done = texts[len(outcomes) - 1], outcomes[-1]
        if len(done) == len(calls):
            # That text's last call returned between its deadline and now; any texts after it
            # were not started, and the caller scans them again.
            return ScanRun(outcomes=outcomes, timeouts=timeouts)
        overdue = calls[len(done)]
        if began:  # a worker that never began (an overloaded machine) is stuck in nothing
            self._stuck[overdue.plugin_id] = job
        return ScanRun(outcomes=outcomes, timeouts=timeouts, overdue=overdue, not_run=list(calls[len(done) + 1 :]))
